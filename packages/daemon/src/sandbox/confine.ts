import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import type { ChildPolicy } from '../config/executor-config.js';
import { isInside } from '../git/safe-path.js';
import { spawnSupervised, type ProcessResult, type SpawnSpec, type SupervisedProcess } from '../process/index.js';
import type { SandboxTools } from './availability.js';
import { BRIDGE_SCRIPT, SANDBOX_PROXY_PORT, SANDBOX_PROXY_SOCKET } from './bridge-script.js';
import { bwrapArgv, systemMounts, type Mount } from './bwrap-argv.js';
import { ProcessCage } from './cgroup.js';
import { EgressProxy, type Destination } from './egress-proxy.js';

/** Entries of the operator's HOME that are never given to a child, whatever a policy lists. */
export const PROTECTED_HOME_ENTRIES = ['.ssh', '.aws', '.config/gh', '.gnupg', '.sluice', '.sluice-relay', '.netrc', '.git-credentials', '.docker', '.kube', '.config/gcloud', '.azure', '.npmrc', '.pypirc'];

/** A policy that would put a protected folder in reach, said plainly. */
export class SandboxRefusal extends Error {
  override readonly name = 'SandboxRefusal';
}

/** What one attempt's sandbox is made of; the same for every child of the attempt. */
export interface AttemptSandboxSpec {
  tools: SandboxTools;
  attemptId: string;
  worktree: string;
  /** The repository's common `.git`, as the repository records it (never read from the worktree's `.git` file). */
  gitCommonDir: string;
  /** The repository the worktree belongs to: dependency folders are bound from its checkout. */
  repoPath: string;
  deps: readonly string[];
  scratchHome: string;
  /** The operator's HOME (entries listed by a policy come from it), or null when unknown. */
  operatorHome: string | null;
  /** Folders no bind may contain or lie in: SLUICE_HOME, the runtime folder, the connector config. */
  protectedRoots: readonly string[];
  /** Called for each connection the egress proxy refuses. */
  onDenied: (d: Destination, why: string) => void;
}

/** One child under its policy: which hosts by default, which HOME entries by default, what else it needs. */
export interface ChildSpec {
  policy: ChildPolicy;
  defaultHosts: readonly string[];
  defaultHomeEntries: readonly string[];
  /** Sluice's own files the child reads (the task file). */
  readOnly?: readonly string[];
  /** Sluice's own folders the child writes (an adapter's state folder outside HOME). */
  writable?: readonly string[];
}

const PROXY_URL = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;

/** The folder of the program a child runs: its package folder when the real file lies in a `bin/` folder. */
function programDirs(program: string): string[] {
  if (!isAbsolute(program)) return [];
  let real = program;
  try {
    real = realpathSync(program);
  } catch {
    return [dirname(program)];
  }
  const dir = dirname(real);
  return [dirname(program), basename(dir) === 'bin' ? dirname(dir) : dir];
}

/**
 * The sandbox of one attempt: every child (executor, validation, setup) is spawned through `spawn`, which builds
 * its file tree, starts its egress proxy when its policy allows hosts, and puts it in a cgroup of its own.
 */
export class AttemptSandbox {
  constructor(private readonly s: AttemptSandboxSpec) {}

  /** The HOME path a child sees: the operator's (holding only listed entries) when passed through, else scratch. */
  private homePath(env: Record<string, string>, policy: ChildPolicy): string {
    return policy.home.passThrough && env.HOME ? env.HOME : this.s.scratchHome;
  }

  private guard(path: string, what: string): string {
    const p = path.startsWith('~/') ? this.fromHome(path.slice(2), what) : path;
    for (const root of this.protectedRoots()) {
      if (isInside(root, p) || isInside(p, root)) throw new SandboxRefusal(`${what} ${path} would put ${root} in reach of the child; the sandbox never binds it`);
    }
    return p;
  }

  private fromHome(entry: string, what: string): string {
    if (!this.s.operatorHome) throw new SandboxRefusal(`${what} ~/${entry} names your HOME, which the daemon does not know (HOME is unset)`);
    return join(this.s.operatorHome, entry);
  }

  private protectedRoots(): string[] {
    const home = this.s.operatorHome;
    return [...this.s.protectedRoots, ...(home ? PROTECTED_HOME_ENTRIES.map((e) => join(home, e)) : [])];
  }

  /** The child's file tree. Throws `SandboxRefusal` when a policy path would expose a protected folder. */
  mounts(child: ChildSpec, env: Record<string, string>, program: string): Mount[] {
    const { s } = this;
    const { policy } = child;
    const home = this.homePath(env, policy);
    const inHome = (p: string) => (p.startsWith('~/') ? join(home, p.slice(2)) : p);
    const mounts: Mount[] = [...systemMounts(), { kind: 'rw', src: s.scratchHome, dest: home }];
    for (const e of policy.home.entries ?? (policy.home.passThrough ? child.defaultHomeEntries : [])) {
      mounts.push({ kind: 'ro', src: this.guard(`~/${e}`, 'home entry'), dest: join(home, e) });
    }
    for (const p of policy.filesystem.read) mounts.push({ kind: 'ro', src: this.guard(p, 'filesystem.read'), dest: inHome(p) });
    for (const p of policy.filesystem.write) mounts.push({ kind: 'rw', src: this.guard(p, 'filesystem.write'), dest: inHome(p) });
    for (const p of [...(env.PATH ?? '').split(delimiter), ...programDirs(program)]) {
      if (!isAbsolute(p) || this.protectedRoots().some((r) => isInside(r, p) || isInside(p, r))) continue;
      mounts.push({ kind: 'ro', src: p, dest: p });
    }
    // The repository's side of the worktree, read-only, and the worktree's `.git` file too: git inside works from
    // the folders the repository recorded, and no child can point the worktree at a git folder of its own.
    mounts.push({ kind: 'ro', src: s.gitCommonDir, dest: s.gitCommonDir });
    mounts.push({ kind: 'rw', src: s.worktree, dest: s.worktree });
    mounts.push({ kind: 'ro', src: join(s.worktree, '.git'), dest: join(s.worktree, '.git') });
    for (const d of s.deps) mounts.push({ kind: 'ro', src: join(s.repoPath, d), dest: join(s.worktree, d) });
    for (const f of child.readOnly ?? []) mounts.push({ kind: 'ro', src: f, dest: f });
    for (const f of child.writable ?? []) mounts.push({ kind: 'rw', src: f, dest: f });
    return mounts;
  }

  /** Spawn one child confined; the proxy and the cgroup go with it. Throws `SandboxRefusal` before spawning. */
  async spawn(spec: SpawnSpec, child: ChildSpec): Promise<SupervisedProcess> {
    const { tools } = this.s;
    const program = spec.argv[0] ?? '';
    const mounts = this.mounts(child, spec.env, program);
    const hosts = child.policy.network.allow ?? child.defaultHosts;
    const proxy = hosts.length > 0 ? await new EgressProxy(hosts, this.s.onDenied).start() : null;
    let argv = [...spec.argv];
    let env: Record<string, string> = { ...spec.env, HOME: this.homePath(spec.env, child.policy) };
    if (proxy) {
      mounts.push({ kind: 'rw', src: proxy.socketPath, dest: SANDBOX_PROXY_SOCKET }, ...programDirs(process.execPath).map((d): Mount => ({ kind: 'ro', src: d, dest: d })));
      argv = [process.execPath, '-e', BRIDGE_SCRIPT, String(SANDBOX_PROXY_PORT), SANDBOX_PROXY_SOCKET, ...argv];
      env = { ...env, HTTPS_PROXY: PROXY_URL, HTTP_PROXY: PROXY_URL, https_proxy: PROXY_URL, http_proxy: PROXY_URL, NO_PROXY: '', no_proxy: '' };
    }
    const { limits } = child.policy;
    let cage: ProcessCage | null = null;
    try {
      cage = tools.cgroups ? new ProcessCage(tools.cgroups, `${this.s.attemptId}-${randomBytes(4).toString('hex')}`, limits) : null;
    } catch (err) {
      await proxy?.close();
      throw new SandboxRefusal(`the cgroup for the child could not be made: ${(err as Error).message}`);
    }
    const rlimits = [`--nofile=${limits.openFiles}:${limits.openFiles}`, ...(cage ? [] : [`--nproc=${limits.processes}:${limits.processes}`])];
    const wrapped = [tools.prlimit, ...rlimits, '--', ...bwrapArgv(tools.bwrap, { mounts, cwd: this.s.worktree, blockFd: 3 }, argv)];
    const proc = spawnSupervised({ ...spec, argv: wrapped, env, gate: (pid) => cage?.attach(pid) });
    const done = proc.done.then(async (r: ProcessResult) => {
      // The cgroup goes once its last member has finished exiting, which the result need not wait for.
      void cage?.release();
      await proxy?.close();
      return r;
    });
    return { pid: proc.pid, done, cancel: () => proc.cancel().then(() => done) };
  }
}
