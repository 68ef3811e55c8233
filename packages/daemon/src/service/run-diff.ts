import { RUN_DIFF_FILES_MAX, type ArtifactRef, type Run, type RunDiff } from '@sluice/shared-protocol';
import { ArtifactTooLargeError } from '../artifacts/artifact-store.js';
import { diffStat } from '../git/diff-stat.js';
import { streamReviewedDiff } from '../git/worktree-manager.js';
import { scanArtifact } from '../secrets/artifact-scan.js';
import type { ServiceDeps } from './verb-service.js';

/** How far the run branch is from its base, for `runs.get`. */
export async function runChanges(repoPath: string, run: Run): Promise<{ changes: RunDiff['changes']; branchMoved: boolean }> {
  return { changes: (await diffStat(repoPath, run.baseCommit, run.headCommit)).changes, branchMoved: run.headCommit !== run.baseCommit };
}

/**
 * base..head of the run branch: the diffstat, and the reviewed diff stored as an artifact of the run (once per
 * head: the same bytes have the same digest) within the daemon's diff cap.
 */
export async function runDiff(deps: ServiceDeps, repoPath: string, run: Run, actor: string): Promise<RunDiff> {
  const { changes, files } = await diffStat(repoPath, run.baseCommit, run.headCommit);
  const base = { runId: run.runId, baseCommit: run.baseCommit, headCommit: run.headCommit, branchMoved: run.headCommit !== run.baseCommit, changes };
  const listed = { files: files.slice(0, RUN_DIFF_FILES_MAX), filesTruncated: files.length > RUN_DIFF_FILES_MAX };
  if (changes.files === 0) return { ...base, ...listed, diff: null, diffTooLarge: false };
  const stored = await storeDiff(deps, repoPath, run, actor);
  return { ...base, ...listed, diff: stored, diffTooLarge: stored === null };
}

async function storeDiff(deps: ServiceDeps, repoPath: string, run: Run, actor: string): Promise<ArtifactRef | null> {
  const diff = await streamReviewedDiff(repoPath, run.baseCommit, run.headCommit);
  let blob;
  try {
    blob = await deps.artifacts.putStream(diff.stdout, { maxBytes: deps.config.current.artifacts.diffLimit });
  } catch (err) {
    diff.kill();
    await diff.done.catch(() => undefined);
    if (err instanceof ArtifactTooLargeError) return null;
    throw err;
  }
  await diff.done;
  const known = deps.store.listArtifacts({ runId: run.runId }).find((a) => a.digest === blob.digest && a.attemptId === null);
  if (known) return known;
  const name = `run-${run.baseCommit.slice(0, 12)}..${run.headCommit.slice(0, 12)}.diff`;
  const ref = deps.store.addArtifactRef({ digest: blob.digest, size: blob.size, mediaType: 'text/x-diff', kind: 'diff', name, runId: run.runId, stepId: null, attemptId: null }, actor);
  // Scanned as it is stored, as every artifact is: a secret the operator accepted stays withheld from remote reads.
  await scanArtifact(deps, ref, actor);
  return ref;
}
