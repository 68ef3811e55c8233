import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { DaemonConfig } from '../config/schema.js';
import { runGit } from '../git/git-command.js';
import { WorktreeManager } from '../git/worktree-manager.js';
import type { Store } from '../store/index.js';

/** What one `sluice gc` pass removed (or, with `dryRun`, would remove). */
export interface GcReport {
  dryRun: boolean;
  /** Attempts that ended before this time are past the retention. */
  cutoff: string;
  artifacts: { blobs: number; bytes: number };
  worktrees: number;
  branches: number;
  /** Per-attempt scratch folders (task file, raw output; their content is in the artifacts). */
  scratch: number;
}

export interface GcOptions {
  /** Retention in milliseconds (default: the config's `artifacts.retention`). */
  olderThanMs?: number;
  dryRun?: boolean;
  actor: string;
  now?: Date;
  /** One line per phase and every 500 blobs (the CLI prints them). */
  onProgress?: (line: string) => void;
}

export interface GcDeps {
  store: Store;
  artifacts: ArtifactStore;
  config: DaemonConfig;
  /** The worktree root of workspaces that name none (null: their worktrees are left alone). */
  worktreesDir: string | null;
  /** Where the engine keeps per-attempt scratch folders (null: left alone). */
  attemptsDir: string | null;
}

/**
 * The retention policy: what attempts that ended longer ago than the retention left behind goes. Blobs only
 * settled old attempts refer to are deleted, each with an `artifact.pruned` audit row (the refs stay: the ledger is
 * append-only, and reading them answers `ARTIFACT_PRUNED`); their kept worktrees, attempt branches and scratch
 * folders are removed.
 * Run and accepted work stays reachable through the run branches.
 */
export async function collectGarbage(deps: GcDeps, opts: GcOptions): Promise<GcReport> {
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - (opts.olderThanMs ?? deps.config.artifacts.retention)).toISOString();
  const dryRun = opts.dryRun ?? false;
  const progress = opts.onProgress ?? (() => undefined);
  const report: GcReport = { dryRun, cutoff, artifacts: { blobs: 0, bytes: 0 }, worktrees: 0, branches: 0, scratch: 0 };
  pruneBlobs(deps, cutoff, dryRun, opts.actor, report, progress);
  const old = deps.store.attemptsEndedBefore(cutoff);
  if (deps.attemptsDir) removeScratch(deps.attemptsDir, old, dryRun, report);
  for (const [id, ws] of Object.entries(deps.config.workspaces)) {
    const ours = new Set(old.filter((a) => a.workspaceId === id).map((a) => a.attemptId));
    if (ours.size === 0) continue;
    progress(`workspace ${id}: ${ours.size} attempt(s) past the retention`);
    try {
      await removeWorktreesAndBranches(ws.path, ws.worktreeRoot ?? deps.worktreesDir, ours, dryRun, report);
    } catch (err) {
      progress(`workspace ${id}: skipped (${err instanceof Error ? err.message.slice(0, 200) : 'git failed'})`);
    }
  }
  progress(`${dryRun ? 'would remove' : 'removed'} ${report.artifacts.blobs} blob(s) (${report.artifacts.bytes} bytes), ${report.worktrees} worktree(s), ${report.branches} branch(es), ${report.scratch} scratch folder(s)`);
  deps.store.audit({ actor: opts.actor, action: 'gc', outcome: 'ok', details: { ...report } });
  return report;
}

/**
 * Synchronous on purpose: no ref can be added between the check and the delete of a blob when the daemon runs gc
 * in its own process (the engine records a blob and its ref without yielding to another task in between).
 */
function pruneBlobs(deps: GcDeps, cutoff: string, dryRun: boolean, actor: string, report: GcReport, progress: (line: string) => void): void {
  const candidates = deps.store.prunableDigests(cutoff).filter((b) => deps.artifacts.has(b.digest));
  progress(`artifacts: ${candidates.length} blob(s) only attempts that ended before ${cutoff} refer to`);
  for (const b of candidates) {
    if (!dryRun) {
      deps.store.transaction(() => {
        deps.store.audit({ actor, action: 'artifact.pruned', target: b.digest, outcome: 'ok', details: { size: b.size, refs: b.refs, cutoff } });
        deps.artifacts.prune(b.digest);
      });
    }
    report.artifacts.blobs++;
    report.artifacts.bytes += b.size;
    if (report.artifacts.blobs % 500 === 0) progress(`artifacts: ${report.artifacts.blobs}/${candidates.length}`);
  }
}

function removeScratch(attemptsDir: string, old: readonly { attemptId: string }[], dryRun: boolean, report: GcReport): void {
  for (const { attemptId } of old) {
    const dir = join(attemptsDir, attemptId);
    if (!existsSync(dir)) continue;
    if (!dryRun) rmSync(dir, { recursive: true, force: true });
    report.scratch++;
  }
}

async function removeWorktreesAndBranches(repo: string, root: string | null, attempts: ReadonlySet<string>, dryRun: boolean, report: GcReport): Promise<void> {
  const mgr = root ? new WorktreeManager({ worktreeRoot: root }) : null;
  if (mgr && dryRun) {
    report.worktrees += mgr.attemptDirs(repo).filter((id) => attempts.has(id)).length;
  } else if (mgr) {
    report.worktrees += (await mgr.removeLeftovers(repo, (id) => !attempts.has(id))).length;
  }
  const refs = (await runGit(repo, ['for-each-ref', '--format=%(refname)', 'refs/heads/sluice/attempt/'])).toString('utf8').split('\n');
  const doomed = refs.filter((r) => attempts.has(r.slice('refs/heads/sluice/attempt/'.length)));
  if (!dryRun && doomed.length > 0) await runGit(repo, ['update-ref', '--stdin'], { input: doomed.map((r) => `delete ${r}\n`).join('') });
  report.branches += doomed.length;
}
