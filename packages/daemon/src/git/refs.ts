import { SluiceError } from '@sluice/shared-protocol';
import { runGitRaw } from './git-command.js';

/** The branch a run owns. */
export function runBranchName(runId: string): string {
  return `sluice/run/${runId}`;
}

/** The full ref a run owns. */
export function runRef(runId: string): string {
  return `refs/heads/${runBranchName(runId)}`;
}

/** Resolve a ref to a commit id; `BASE_REF_NOT_FOUND` when it names no commit. */
export async function resolveCommit(repo: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new SluiceError('BASE_REF_NOT_FOUND');
  const r = await runGitRaw(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  const sha = r.stdout.toString('utf8').trim();
  if (r.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) throw new SluiceError('BASE_REF_NOT_FOUND');
  return sha;
}

/** Create `refs/heads/sluice/run/<runId>` at `commit`; fails if it exists. Touches no checkout, index or worktree. */
export async function createRunBranch(repo: string, runId: string, commit: string): Promise<string> {
  const r = await runGitRaw(repo, ['update-ref', '--no-deref', '-m', 'sluice: open run', runRef(runId), commit, '']);
  if (r.exitCode !== 0) throw new Error(`git update-ref failed creating ${runRef(runId)}: ${r.stderr.trim()}`);
  return runBranchName(runId);
}

/** Compare-and-swap a ref from `expected` to `next`; `RUN_BRANCH_MOVED` when it no longer points at `expected`. */
export async function compareAndSwapRef(repo: string, ref: string, next: string, expected: string): Promise<void> {
  const r = await runGitRaw(repo, ['update-ref', '--no-deref', '-m', 'sluice: accept attempt', ref, next, expected]);
  if (r.exitCode !== 0) throw new SluiceError('RUN_BRANCH_MOVED');
}

/** Where a ref points, or null when it does not exist. */
export async function readRef(repo: string, ref: string): Promise<string | null> {
  const r = await runGitRaw(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  return r.exitCode === 0 ? r.stdout.toString('utf8').trim() : null;
}

/** True when `ancestor` is an ancestor of (or equal to) `descendant`: a fast-forward is possible. */
export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await runGitRaw(repo, ['merge-base', '--is-ancestor', '--end-of-options', ancestor, descendant]);
  return r.exitCode === 0;
}
