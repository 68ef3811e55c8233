import { spawnSync } from 'node:child_process';
import { findOnPath } from '../executors/preflight.js';
import { bwrapArgv, systemMounts } from './bwrap-argv.js';
import { findControllers } from './cgroup.js';

type Controllers = Exclude<ReturnType<typeof findControllers>, { unavailable: string }>;

/** What this machine offers the sandbox. */
export interface SandboxTools {
  bwrap: string;
  prlimit: string;
  /** Null: no writable cgroup; processes are then bounded by `RLIMIT_NPROC` (not as root) and memory is not. */
  cgroups: Controllers | null;
}

export type Availability = { ok: true; tools: SandboxTools } | { ok: false; reason: string };

/** Searched after the daemon's PATH by default: the tools are system packages. */
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

let known: { path: string; tools: SandboxTools } | null = null;

/**
 * Whether a sandbox can be made here, with the exact reason when not: bwrap and prlimit on the daemon's PATH,
 * the kernel letting bwrap make its namespaces (checked by running one), and a way to bound the process count
 * that binds root too. A success is remembered for the daemon's life; a failure is checked again next time.
 */
export function sandboxAvailability(pathVar = `${process.env.PATH ?? ''}:${SYSTEM_PATH}`): Availability {
  if (known && known.path === pathVar) return { ok: true, tools: known.tools };
  if (process.platform !== 'linux') return { ok: false, reason: `the sandbox is implemented with bubblewrap on Linux only; this is ${process.platform} (set "sandbox": "off" in the workspace to run unconfined)` };
  const bwrap = findOnPath('bwrap', pathVar);
  if (!bwrap) return { ok: false, reason: 'bwrap is not on the PATH: install the bubblewrap package (apt-get install bubblewrap)' };
  const prlimit = findOnPath('prlimit', pathVar);
  if (!prlimit) return { ok: false, reason: 'prlimit is not on the PATH: install util-linux' };
  const probe = spawnSync(bwrap, bwrapArgv(bwrap, { mounts: systemMounts(), cwd: '/' }, ['/bin/true']).slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (probe.error) return { ok: false, reason: `bwrap could not be run: ${probe.error.message}` };
  if (probe.status !== 0) return { ok: false, reason: `bwrap cannot make its namespaces here: ${probe.stderr.trim() || `exit ${String(probe.status)}`} (user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)` };
  const found = findControllers();
  const cgroups = 'unavailable' in found ? null : found;
  if (!cgroups && process.getuid?.() === 0) return { ok: false, reason: `running as root with no writable cgroup, so nothing can bound the number of processes (RLIMIT_NPROC does not bind root): ${(found as { unavailable: string }).unavailable}` };
  const tools = { bwrap, prlimit, cgroups };
  known = { path: pathVar, tools };
  return { ok: true, tools };
}
