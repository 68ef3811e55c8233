import type { DaemonConfig } from '../config/schema.js';
import type { AttemptWorktree, Capture, WorktreeManager } from '../git/worktree-manager.js';
import { ArtifactBudget, ArtifactLimitError, recordArtifact, type ArtifactTarget } from './artifact-recorder.js';
import { ENGINE_ACTOR, type EngineDeps } from './engine-types.js';

/** A fresh artifact budget for one attempt, from the config's caps. */
export function attemptBudget(config: DaemonConfig): ArtifactBudget {
  const { attemptLimit, diffLimit } = config.artifacts;
  return new ArtifactBudget(attemptLimit, diffLimit);
}

/**
 * The changed-file list, the flags, then the diff streamed from git into the store (never held in memory).
 * A diff past its cap is not stored; the refusal is returned for the caller to fail the attempt with.
 */
export async function recordCapture(deps: Pick<EngineDeps, 'store' | 'artifacts'>, ids: ArtifactTarget, cap: Capture, mgr: WorktreeManager, wt: AttemptWorktree): Promise<ArtifactLimitError | null> {
  await recordArtifact(deps, ids, 'changed-files', 'changed-files.txt', 'text/plain; charset=utf-8', { data: cap.changedFilesText });
  if (cap.attributesFiles.length > 0) {
    const data = { attributesChanged: true, paths: cap.attributesFiles };
    deps.store.appendEvent({ type: 'attempt.flagged', runId: ids.runId, stepId: ids.stepId, attemptId: ids.attemptId, data }, ENGINE_ACTOR);
  }
  const diff = await mgr.diffStream(wt);
  try {
    await recordArtifact(deps, ids, 'diff', 'diff.patch', 'text/x-diff', { stream: diff.stdout });
  } catch (err) {
    diff.kill();
    await diff.done.catch(() => undefined);
    if (err instanceof ArtifactLimitError) return err;
    throw err;
  }
  await diff.done;
  return null;
}

/** The agent's raw stdout and stderr of an attempt, from its scratch files. */
export async function recordOutputFiles(deps: Pick<EngineDeps, 'store' | 'artifacts'>, ids: ArtifactTarget, paths: { stdout: string; stderr: string }, optional: boolean): Promise<void> {
  await recordArtifact(deps, ids, 'stdout', 'stdout', 'text/plain; charset=utf-8', { file: paths.stdout, optional });
  await recordArtifact(deps, ids, 'stderr', 'stderr', 'text/plain; charset=utf-8', { file: paths.stderr, optional });
}
