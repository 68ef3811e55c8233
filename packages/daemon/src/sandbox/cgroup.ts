import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
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

/** The direct children of a process, from each process's parent in /proc (the per-task children files are not in every kernel). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function killMembers(dir: string): void {
  try {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  } catch {
    // Empty, or gone meanwhile.
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

  /**
   * Move a process into the cage, then the children it made before the move (bwrap forks its sandboxed child
   * early; that child waits on its block descriptor, so it can have made none of its own). Later children inherit.
   */
  attach(pid: number): void {
    const enter = (p: number) => {
      for (const d of this.dirs) writeFileSync(join(d, 'cgroup.procs'), String(p));
    };
    enter(pid);
    // Only now: a child made before the parent moved is listed by this scan, one made after inherits the cage.
    for (const child of childrenOf(pid)) enter(child);
  }

  /** Kill whatever is left in the cage, then remove it (retried while the last processes finish exiting). */
  async release(): Promise<void> {
    for (const d of this.dirs) {
      for (let tries = 0; tries < 20; tries++) {
        killMembers(d);
        try {
          rmdirSync(d);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  }
}
