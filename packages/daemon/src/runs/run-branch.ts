import { SluiceError } from '@sluice/shared-protocol';
import { KeyedLock } from '../git/keyed-lock.js';
import { compareAndSwapRef, isAncestor, readRef, runRef } from '../git/refs.js';
import type { Store } from '../store/index.js';
import type { ConfigHolder } from '../config/config-holder.js';

/** Serializes fast-forwards per run so two accepts never race between the ancestry check and the ref update. */
const perRun = new KeyedLock();

/**
 * Fast-forward `sluice/run/<runId>` from the head the ledger knows to `commit` with a compare-and-swap ref update,
 * then record the new head. A branch that moved (or a commit that does not descend from the head) is refused
 * with `RUN_BRANCH_MOVED`; nothing is overwritten.
 */
export function fastForwardRun(store: Store, repoPath: string, runId: string, commit: string, actor: string): Promise<void> {
  return perRun.run(runId, () => doFastForward(store, repoPath, runId, commit, actor));
}

/** Accept an attempt: fast-forward its run branch to the attempt's commit (the same path for every engine). */
export async function acceptAttemptCommit(store: Store, config: ConfigHolder, attemptId: string, actor: string): Promise<void> {
  const attempt = store.getAttempt(attemptId);
  if (!attempt) throw new SluiceError('ATTEMPT_NOT_FOUND');
  if (!attempt.commit) throw new SluiceError('ATTEMPT_NOT_ACCEPTABLE', 'The attempt has no commit to accept.');
  const run = store.getRun(attempt.runId);
  if (!run) throw new SluiceError('RUN_NOT_FOUND');
  await fastForwardRun(store, config.requireWorkspace(run.workspaceId).path, run.runId, attempt.commit, actor);
}

async function doFastForward(store: Store, repoPath: string, runId: string, commit: string, actor: string): Promise<void> {
  const run = store.getRun(runId);
  if (!run) throw new SluiceError('RUN_NOT_FOUND');
  if (run.headCommit === commit) return;
  if (!(await isAncestor(repoPath, run.headCommit, commit))) throw new SluiceError('RUN_BRANCH_MOVED');
  // A daemon that died between the ref update and its record left the branch already here: record it.
  if ((await readRef(repoPath, runRef(runId))) === commit) {
    store.setRunHead(runId, commit, actor);
    return;
  }
  await compareAndSwapRef(repoPath, runRef(runId), commit, run.headCommit);
  store.setRunHead(runId, commit, actor);
}
