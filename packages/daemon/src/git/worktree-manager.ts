import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gitText, runGit, runGitRaw, streamGit, type GitStream } from './git-command.js';
import { gitRefusesPath } from './git-path.js';
import { KeyedLock } from './keyed-lock.js';
import { assertSafeConfiguredPath, isInside } from './safe-path.js';

/** The branch an attempt's work is committed on. */
export function attemptBranch(attemptId: string): string {
  return `sluice/attempt/${attemptId}`;
}

export interface WorktreeManagerOptions {
  /** Where worktrees live (the runtime folder's `worktrees/`, or a tmpfs such as `/dev/shm/sluice`). */
  worktreeRoot: string;
  /** `checkout.workers` for the checkout (parallel checkout); 2 is a good default on 2 cores. */
  checkoutWorkers?: number;
  /** Worktrees kept per repository for reuse (`checkout -f -B` + `clean -fdx` instead of a fresh add). 0: none. */
  poolSize?: number;
  /** Never remove worktrees after completion (they stay for inspection). */
  keepWorktrees?: boolean;
  /** The daemon home: a worktree inside it could reach the token and the ledger by relative paths. */
  homeDir?: string;
}

/** An attempt's worktree. */
export interface AttemptWorktree {
  repoPath: string;
  attemptId: string;
  path: string;
  branch: string;
  baseCommit: string;
  /**
   * The folders git keeps for this worktree, as the repository records them: its admin folder
   * (`<repo>/.git/worktrees/<name>`) and the repository's common `.git`. Every git call Sluice makes in the worktree
   * names them, because the worktree's own `.git` file is writable by whatever ran there: pointed at a folder of the
   * agent's, it would make Sluice's git run that folder's config (a clean filter runs a program on `git add`).
   */
  gitDir: string;
  commonDir: string;
  /** Set once every change is committed on the attempt branch; only then may the worktree go. */
  commit: string | null;
}

/** One changed path between the base and the attempt commit. */
export interface ChangedFile {
  /** git's status letter: A, M, D, T. */
  status: string;
  path: string;
}

/** What capture produced: the attempt commit and the changed paths (the diff is streamed by `diffStream`). */
export interface Capture {
  commit: string;
  changedFiles: ChangedFile[];
  /** `<status>\t<path>` lines, the changed-files artifact. */
  changedFilesText: string;
  /** The `.gitattributes` files the attempt adds, changes or deletes (they change how git diffs and filters files). */
  attributesFiles: string[];
}

/** The attempt's work could not be captured (committed, or its diff produced); `code` is its failure code. */
export class CaptureError extends Error {
  constructor(
    readonly code: 'CAPTURE_FAILED' | 'CAPTURE_PATH_REFUSED',
    message: string,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}

/** Files git refuses to commit (e.g. `x/.GIT/config`): the attempt's work cannot be captured. */
export class CapturePathRefusedError extends CaptureError {
  constructor(readonly paths: readonly string[]) {
    super('CAPTURE_PATH_REFUSED', `git refuses to commit ${paths.length} path(s), e.g. ${JSON.stringify(paths[0])} (a ".git" component in any letter case); the attempt's changes were discarded`);
    this.name = 'CapturePathRefusedError';
  }
}

const ATTRIBUTES_FILE = /(^|\/)\.gitattributes$/;

/**
 * git does not lock `.git/worktrees/` against itself: parallel `worktree add`/`remove` in one repository fail now
 * and then (`failed to read .git/worktrees/<other>/commondir`). The admin part runs one at a time per repository,
 * across every manager of the process (the engine's and `sluice gc`'s); the checkout, the slow part, in parallel.
 */
const WORKTREE_ADMIN = new KeyedLock();

/**
 * Creates, captures and removes attempt worktrees. It only ever touches the attempt branches and worktrees it
 * created: the operator's checked-out branch, index and working tree are never used.
 */
export class WorktreeManager {
  private readonly root: string;
  private readonly workers: number;
  private readonly poolSize: number;
  private readonly keep: boolean;
  private readonly home: string | null;
  private readonly pools = new Map<string, string[]>();
  private readonly admin = WORKTREE_ADMIN;

  constructor(opts: WorktreeManagerOptions) {
    this.root = assertSafeConfiguredPath(opts.worktreeRoot, 'worktreeRoot');
    this.workers = Math.max(1, opts.checkoutWorkers ?? 2);
    this.poolSize = Math.max(0, opts.poolSize ?? 0);
    this.keep = opts.keepWorktrees ?? false;
    this.home = opts.homeDir ?? null;
  }

  private repoDir(repoPath: string): string {
    return join(this.root, createHash('sha256').update(repoPath).digest('hex').slice(0, 12));
  }

  /** Create branch `sluice/attempt/<id>` at `baseCommit` and a worktree on it (pooled when one is free). */
  async create(repoPath: string, attemptId: string, baseCommit: string): Promise<AttemptWorktree> {
    // Worktrees inside the repository would show up in the operator's working tree.
    if (isInside(repoPath, this.root)) throw new Error(`worktreeRoot ${this.root} lies inside the repository ${repoPath}; choose a folder outside it`);
    if (this.home && (isInside(this.home, this.root) || isInside(this.root, this.home))) throw new Error(`worktreeRoot ${this.root} and SLUICE_HOME ${this.home} must not contain each other; choose a folder outside SLUICE_HOME`);
    const branch = attemptBranch(attemptId);
    const pooled = this.pools.get(repoPath)?.pop();
    if (pooled) {
      try {
        const dirs = await worktreeGitDirs(repoPath, pooled);
        restoreDotGit(pooled, dirs.gitDir);
        const env = worktreeGitEnv({ path: pooled, ...dirs });
        await runGit(pooled, ['-c', `checkout.workers=${this.workers}`, '-c', 'checkout.thresholdForParallelism=500', 'checkout', '-q', '-f', '-B', branch, baseCommit, '--'], { env });
        await runGit(pooled, ['clean', '-fdxq'], { env });
        return { repoPath, attemptId, path: pooled, branch, baseCommit, ...dirs, commit: null };
      } catch {
        await this.forceRemove(repoPath, pooled);
      }
    }
    const dir = this.repoDir(repoPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `wt-${attemptId}`);
    await this.admin.run(repoPath, () => runGit(repoPath, ['worktree', 'add', '-q', '--no-checkout', '-b', branch, path, baseCommit]));
    const dirs = await worktreeGitDirs(repoPath, path);
    await runGit(path, ['-c', `checkout.workers=${this.workers}`, '-c', 'checkout.thresholdForParallelism=500', 'reset', '-q', '--hard', baseCommit], { env: worktreeGitEnv({ path, ...dirs }) });
    return { repoPath, attemptId, path, branch, baseCommit, ...dirs, commit: null };
  }

  /**
   * Commit every change in the worktree (new, deleted, binary; ignored files excepted) on the attempt branch
   * with the Sluice identity, then produce the diff and changed-file list against the base.
   */
  async capture(wt: AttemptWorktree, message: string): Promise<Capture> {
    const opts = { env: worktreeGitEnv(wt) };
    const untracked = (await runGit(wt.path, ['ls-files', '-z', '--others', '--exclude-standard'], opts)).toString('utf8').split('\0');
    const refused = untracked.filter((p) => p.length > 0 && gitRefusesPath(p));
    if (refused.length > 0) throw new CapturePathRefusedError(refused);
    await runGit(wt.path, ['add', '-A', '--', '.'], opts);
    const staged = await runGitRaw(wt.path, ['diff', '--cached', '--quiet'], opts);
    if (staged.exitCode === 1) await runGit(wt.path, ['commit', '-q', '--no-verify', '-m', message], opts);
    else if (staged.exitCode !== 0) throw new Error(`git diff --cached failed: ${staged.stderr.trim()}`);
    const commit = (await runGit(wt.path, ['rev-parse', '--verify', 'HEAD^{commit}'], opts)).toString('utf8').trim();
    // The agent may have switched branches; the attempt branch must hold the captured commit either way.
    await runGit(wt.path, ['update-ref', `refs/heads/${wt.branch}`, commit], opts);
    wt.commit = commit;
    const raw = (await runGit(wt.path, ['diff', '--name-status', '--no-renames', '-z', wt.baseCommit, commit, '--'], opts)).toString('utf8');
    const parts = raw.split('\0').filter((p) => p.length > 0);
    const changedFiles: ChangedFile[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) changedFiles.push({ status: parts[i]!, path: parts[i + 1]! });
    const changedFilesText = changedFiles.map((f) => `${f.status}\t${f.path}\n`).join('');
    const attributesFiles = changedFiles.filter((f) => ATTRIBUTES_FILE.test(f.path)).map((f) => f.path);
    return { commit, changedFiles, changedFilesText, attributesFiles };
  }

  /** Stream the binary diff of a captured attempt against its base (see `streamReviewedDiff`). */
  async diffStream(wt: AttemptWorktree): Promise<GitStream> {
    if (!wt.commit) throw new Error('the attempt is not captured yet');
    return streamReviewedDiff(wt.path, wt.baseCommit, wt.commit, wt.gitDir);
  }

  /**
   * Give the worktree back: kept (`keepWorktrees`), pooled for reuse, or removed. Refused while its work is not
   * committed, so no edit is ever lost with a worktree.
   */
  async release(wt: AttemptWorktree): Promise<'kept' | 'pooled' | 'removed'> {
    if (!wt.commit) throw new Error('refusing to remove a worktree whose changes are not committed');
    if (this.keep) return 'kept';
    const pool = this.pools.get(wt.repoPath) ?? [];
    if (pool.length < this.poolSize) {
      // Detach so the attempt branch is free to be checked out or deleted by the operator.
      const r = await runGitRaw(wt.path, ['checkout', '-q', '--detach', wt.commit], { env: worktreeGitEnv(wt) });
      if (r.exitCode === 0) {
        pool.push(wt.path);
        this.pools.set(wt.repoPath, pool);
        return 'pooled';
      }
    }
    await this.forceRemove(wt.repoPath, wt.path);
    return 'removed';
  }

  /** Find the worktree that has an attempt branch checked out (after a restart), or null. */
  async find(repoPath: string, attemptId: string): Promise<string | null> {
    const list = await gitText(repoPath, ['worktree', 'list', '--porcelain']);
    const want = `branch refs/heads/${attemptBranch(attemptId)}`;
    let current: string | null = null;
    for (const line of list.split('\n')) {
      if (line.startsWith('worktree ')) current = line.slice('worktree '.length);
      else if (line === want && current) return current;
    }
    return null;
  }

  /** The attempt ids of the worktree folders of a repository (in use, pooled, kept or left over). */
  attemptDirs(repoPath: string): string[] {
    let names: string[];
    try {
      names = readdirSync(this.repoDir(repoPath));
    } catch {
      return [];
    }
    return names.flatMap((n) => /^wt-(att_[0-9A-Za-z]+)$/.exec(n)?.[1] ?? []);
  }

  /** Remove a worktree whose changes could not be committed (its work is lost; the attempt failed saying why). */
  discard(wt: AttemptWorktree): Promise<void> {
    return this.forceRemove(wt.repoPath, wt.path);
  }

  /**
   * Remove the attempt worktrees of a repository that `keep` does not claim (a crash left them: a finished
   * attempt not yet released, a pooled one, a half-created one); returns the attempt ids removed.
   */
  async removeLeftovers(repoPath: string, keep: (attemptId: string) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const id of this.attemptDirs(repoPath)) {
      if (keep(id)) continue;
      await this.forceRemove(repoPath, join(this.repoDir(repoPath), `wt-${id}`));
      removed.push(id);
    }
    await this.admin.run(repoPath, () => runGitRaw(repoPath, ['worktree', 'prune']));
    return removed;
  }

  /** Remove pooled worktrees (daemon shutdown). */
  async drainPools(): Promise<void> {
    for (const [repo, paths] of this.pools) {
      for (const p of paths) await this.forceRemove(repo, p);
    }
    this.pools.clear();
  }

  private forceRemove(repoPath: string, path: string): Promise<void> {
    return this.admin.run(repoPath, async () => {
      const r = await runGitRaw(repoPath, ['worktree', 'remove', '--force', '--force', path]);
      if (r.exitCode !== 0) {
        rmSync(path, { recursive: true, force: true });
        await runGitRaw(repoPath, ['worktree', 'prune']);
      }
    });
  }
}

/**
 * Stream the binary diff `base..commit` as a reviewer sees it, run in any work tree of the repository at `cwd`.
 * Attributes come from the base commit, not from the change: an agent-written `.gitattributes` (`-diff`,
 * `binary`) cannot hide a change from the reviewed diff.
 */
export async function streamReviewedDiff(cwd: string, baseCommit: string, commit: string, knownGitDir?: string): Promise<GitStream> {
  // An index holding the base tree and an empty work tree (also the cwd: git reads attributes below the cwd
  // too): git then finds `.gitattributes` in the base only.
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-diff-'));
  const empty = join(scratch, 'empty');
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  let gitDir: string;
  try {
    gitDir = knownGitDir ?? (await gitText(cwd, ['rev-parse', '--absolute-git-dir']));
    await runGit(cwd, ['--git-dir', gitDir, 'read-tree', baseCommit], { env });
    mkdirSync(empty);
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
  const args = ['--git-dir', gitDir, '--work-tree', empty, 'diff', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--full-index', baseCommit, commit, '--'];
  const s = streamGit(empty, args, { env });
  const done = s.done.then(
    () => rmSync(scratch, { recursive: true, force: true }),
    (err: unknown) => {
      rmSync(scratch, { recursive: true, force: true });
      throw new CaptureError('CAPTURE_FAILED', err instanceof Error ? err.message : 'git diff failed');
    },
  );
  done.catch(() => undefined);
  return { ...s, done };
}

/**
 * The admin folder of the linked worktree at `path` and the repository's common `.git`, found from the
 * repository's side (`<common>/worktrees/<name>/gitdir` names each worktree's `.git`), never from the worktree's own
 * `.git` file.
 */
export async function worktreeGitDirs(repoPath: string, path: string): Promise<{ gitDir: string; commonDir: string }> {
  const commonDir = realpathSync(await gitText(repoPath, ['rev-parse', '--path-format=absolute', '--git-common-dir']));
  const admin = join(commonDir, 'worktrees');
  const want = realpathSync(path);
  for (const name of readdirSync(admin)) {
    let worktree: string;
    try {
      worktree = realpathSync(dirname(readFileSync(join(admin, name, 'gitdir'), 'utf8').trim()));
    } catch {
      continue;
    }
    if (worktree === want) return { gitDir: join(admin, name), commonDir };
  }
  throw new Error(`${path} is not a worktree the repository ${repoPath} knows`);
}

/** The variables that make git use the worktree's recorded folders whatever its `.git` file now says. */
export function worktreeGitEnv(wt: Pick<AttemptWorktree, 'path' | 'gitDir'>): Record<string, string> {
  return { GIT_DIR: wt.gitDir, GIT_WORK_TREE: wt.path };
}

/** Put back the `.git` file git wrote for a pooled worktree (what the last attempt left there is not trusted). */
function restoreDotGit(path: string, gitDir: string): void {
  const dotGit = join(path, '.git');
  rmSync(dotGit, { recursive: true, force: true });
  writeFileSync(dotGit, `gitdir: ${gitDir}\n`);
}
