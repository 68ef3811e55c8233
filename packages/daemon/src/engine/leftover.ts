import { readFileSync, readlinkSync } from 'node:fs';

/**
 * After a crash, stop a process group an earlier daemon started for an attempt, if it still runs. The pid file
 * names the group leader and its worktree; the group is only signalled when that pid's cwd is still inside the
 * worktree, so a reused pid is never hit.
 */
export function killLeftoverGroup(pidFile: string, worktree: string | null): void {
  let pid: number;
  let recorded: string;
  try {
    const [p, w] = readFileSync(pidFile, 'utf8').split('\n');
    pid = Number(p);
    recorded = w ?? '';
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  const wt = worktree ?? recorded;
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return;
  }
  if (!wt || (cwd !== wt && !cwd.startsWith(`${wt}/`))) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone.
  }
}
