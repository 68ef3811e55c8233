import { execFile } from 'node:child_process';
import { SluiceError } from '@sluice/shared-protocol';

/** Result of one git invocation. */
interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run git with an argv (never a shell), in `repo`, without prompts or the operator's pager. */
export function runGit(repo: string, args: readonly string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', repo, ...args],
      { shell: false, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' }, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

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
  const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  const sha = r.stdout.trim();
  if (r.code !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) throw new SluiceError('BASE_REF_NOT_FOUND');
  return sha;
}

/** Create `refs/heads/sluice/run/<runId>` at `commit`; fails if it exists. Touches no checkout, index or worktree. */
export async function createRunBranch(repo: string, runId: string, commit: string): Promise<string> {
  const r = await runGit(repo, ['update-ref', '--no-deref', '-m', 'sluice: open run', runRef(runId), commit, '']);
  if (r.code !== 0) throw new Error(`git update-ref failed creating ${runRef(runId)}: ${r.stderr.trim()}`);
  return runBranchName(runId);
}

/** Compare-and-swap a ref from `expected` to `next`; `RUN_BRANCH_MOVED` when it no longer points at `expected`. */
export async function compareAndSwapRef(repo: string, ref: string, next: string, expected: string): Promise<void> {
  const r = await runGit(repo, ['update-ref', '--no-deref', '-m', 'sluice: accept attempt', ref, next, expected]);
  if (r.code !== 0) throw new SluiceError('RUN_BRANCH_MOVED');
}

/** Where a ref points, or null when it does not exist. */
export async function readRef(repo: string, ref: string): Promise<string | null> {
  const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** True when `ancestor` is an ancestor of (or equal to) `descendant`: a fast-forward is possible. */
export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await runGit(repo, ['merge-base', '--is-ancestor', ancestor, descendant]);
  return r.code === 0;
}
