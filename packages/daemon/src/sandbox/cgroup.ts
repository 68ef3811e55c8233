import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** The limit files of one cgroup, per version: the process count and the memory. */
interface Controllers {
  version: 'v2' | 'v1';
  /** Parent folders our cgroups are made in, by controller. */
  parents: { pids: string; memory: string };
}

/** This process's cgroup path for a controller (`''` is the v2 line), from /proc/self/cgroup. */
function ownPath(controller: string): string | null {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, names, path] = line.split(':');
    if (names === undefined || path === undefined) continue;
    if (controller === '' ? names === '' : names.split(',').includes(controller)) return path;
  }
  return null;
}

function writable(dir: string): boolean {
  const probe = join(dir, `sluice-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where per-process cgroups can be made, or why not: cgroup v2 whose own cgroup delegates `pids` and `memory`,
 * else v1 `pids` and `memory` hierarchies we may write.
 */
export function findControllers(): Controllers | { unavailable: string } {
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      const own = join(ROOT, ownPath('') ?? '/');
      const delegated = readFileSync(join(own, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      if (!delegated.includes('pids') || !delegated.includes('memory')) return { unavailable: `cgroup v2: ${own} does not delegate the pids and memory controllers to child groups` };
      if (!writable(own)) return { unavailable: `cgroup v2: ${own} is not writable` };
      return { version: 'v2', parents: { pids: own, memory: own } };
    }
    const pids = join(ROOT, 'pids', ownPath('pids') ?? '/');
    const memory = join(ROOT, 'memory', ownPath('memory') ?? '/');
    for (const dir of [pids, memory]) if (!existsSync(dir) || !writable(dir)) return { unavailable: `cgroup v1: ${dir} is missing or not writable` };
    return { version: 'v1', parents: { pids, memory } };
  } catch (err) {
    return { unavailable: `no usable cgroup: ${(err as Error).message}` };
  }
}

/** The cgroup(s) of one sandboxed process tree: created with its limits, joined before the program runs. */
export class ProcessCage {
  private readonly dirs: string[];

  constructor(
    private readonly c: Controllers,
    name: string,
    limits: { processes: number; memory: number },
  ) {
    const own = (parent: string) => join(parent, `sluice-${name}`);
    this.dirs = [...new Set([own(c.parents.pids), own(c.parents.memory)])];
    for (const d of this.dirs) mkdirSync(d);
    if (c.version === 'v2') {
      writeFileSync(join(this.dirs[0]!, 'pids.max'), String(limits.processes));
      writeFileSync(join(this.dirs[0]!, 'memory.max'), String(limits.memory));
      if (existsSync(join(this.dirs[0]!, 'memory.swap.max'))) writeFileSync(join(this.dirs[0]!, 'memory.swap.max'), '0');
    } else {
      writeFileSync(join(own(c.parents.pids), 'pids.max'), String(limits.processes));
      writeFileSync(join(own(c.parents.memory), 'memory.limit_in_bytes'), String(limits.memory));
    }
  }

  /** Move a process (bwrap, still waiting on its block descriptor) into the cage; its children inherit it. */
  attach(pid: number): void {
    for (const d of this.dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
  }

  /** Remove the cgroups once the tree is gone (a still-populated one is left for the kernel to empty). */
  release(): void {
    for (const d of this.dirs) {
      try {
        if (this.c.version === 'v2') writeFileSync(join(d, 'cgroup.kill'), '1');
      } catch {
        // No cgroup.kill before Linux 5.14: the process group kill already ran.
      }
      try {
        rmdirSync(d);
      } catch {
        // EBUSY: a process is still exiting; the empty group costs nothing and gc of the runtime dir ignores it.
      }
    }
  }
}
