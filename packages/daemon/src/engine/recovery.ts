import { join } from 'node:path';
import type { Attempt, AttemptState } from '@sluice/shared-protocol';
import type { WorkspaceConfig } from '../config/schema.js';
import { readRef, runRef } from '../git/refs.js';
import { worktreeGitDirs, type AttemptWorktree, type WorktreeManager } from '../git/worktree-manager.js';
import { openApprovalGateIfReady } from '../runs/step-outcome.js';
import type { AttemptPatch } from '../store/index.js';
import { attemptBudget, recordCapture, recordOutputFiles } from './capture-artifacts.js';
import { ENGINE_ACTOR, type EngineDeps } from './engine-types.js';
import { killLeftoverGroup } from './leftover.js';

/** States of an attempt that only a running engine can be in. */
export const ENGINE_LIVE: readonly AttemptState[] = ['preparing', 'running', 'validating'];

/** What recovery needs from its engine. */
export interface RecoveryContext {
  deps: EngineDeps;
  worktrees: (ws: WorkspaceConfig) => WorktreeManager;
  dropScratchHome: (attemptId: string) => void;
}

/**
 * Crash recovery: attempts a previous daemon left preparing, running or validating are stopped if anything of
 * them still runs, their worktree changes are committed and recorded, and they become `interrupted`; their
 * steps settle (failed, hence retryable). Queued attempts stay queued and run normally.
 */
export async function recover(ctx: RecoveryContext): Promise<void> {
  for (const a of ctx.deps.store.attemptsInStates(ENGINE_LIVE)) await recoverAttempt(ctx, a);
  await removeLeftoverWorktrees(ctx);
  settleWaitingSteps(ctx.deps);
}

async function recoverAttempt(ctx: RecoveryContext, a: Attempt): Promise<void> {
  const { store, config } = ctx.deps;
  const patch: AttemptPatch = { failureCode: 'DAEMON_RESTARTED', summary: `the daemon stopped while this attempt was ${a.state}` };
  try {
    await captureLeftover(ctx, a, patch);
  } catch (err) {
    ctx.deps.logger?.warn({ err, attemptId: a.attemptId }, 'could not capture the changes of an interrupted attempt');
  }
  ctx.dropScratchHome(a.attemptId);
  // The branch itself may already point at this attempt: the daemon died between the ref update and its record.
  const run = store.getRun(a.runId);
  const branchHead = run && patch.commit ? await runBranchHead(ctx.deps, run.workspaceId, a.runId) : null;
  store.transaction(() => {
    const head = store.getRun(a.runId)?.headCommit;
    // The daemon died after fast-forwarding the run branch to this attempt but before recording it: it succeeded.
    const accepted = patch.commit && (patch.commit === head || patch.commit === branchHead) && patch.commit !== a.baseCommit;
    if (accepted && patch.commit !== head) store.setRunHead(a.runId, patch.commit!, ENGINE_ACTOR);
    if (accepted) store.transitionAttempt(a.attemptId, 'succeeded', { commit: patch.commit, changedFiles: patch.changedFiles ?? null }, ENGINE_ACTOR);
    else store.transitionAttempt(a.attemptId, 'interrupted', patch, ENGINE_ACTOR);
    openApprovalGateIfReady(store, config, a.stepId);
  });
}

/** Stop what still runs of the attempt, commit its worktree and record the capture and output into `patch`. */
async function captureLeftover(ctx: RecoveryContext, a: Attempt, patch: AttemptPatch): Promise<void> {
  const { deps } = ctx;
  const run = deps.store.getRun(a.runId);
  const ws = run ? deps.config.workspace(run.workspaceId) : null;
  if (!ws) return;
  const scratch = join(deps.attemptsDir, a.attemptId);
  const mgr = ctx.worktrees(ws);
  const path = await mgr.find(ws.path, a.attemptId);
  killLeftoverGroup(join(scratch, 'pid'), path);
  if (!path) return;
  const ids = { runId: a.runId, stepId: a.stepId, attemptId: a.attemptId, budget: attemptBudget(deps.config.current) };
  const wt: AttemptWorktree = { repoPath: ws.path, attemptId: a.attemptId, path, branch: a.branch, baseCommit: a.baseCommit, ...(await worktreeGitDirs(ws.path, path)), commit: null };
  const cap = await mgr.capture(wt, `sluice: attempt ${a.attemptId} (interrupted)`).catch(async (err: unknown) => {
    await mgr.discard(wt);
    throw err;
  });
  patch.commit = cap.commit;
  patch.changedFiles = cap.changedFiles.length;
  const diffRefused = await recordCapture(deps, ids, cap, mgr, wt);
  if (diffRefused) patch.summary = `${patch.summary}; ${diffRefused.message}`;
  await recordOutputFiles(deps, ids, { stdout: join(scratch, 'stdout'), stderr: join(scratch, 'stderr') }, true);
  await mgr.release(wt);
}

/** Where `sluice/run/<runId>` points now, or null when it cannot be read. */
async function runBranchHead(deps: EngineDeps, workspaceId: string, runId: string): Promise<string | null> {
  const ws = deps.config.workspace(workspaceId);
  return ws ? readRef(ws.path, runRef(runId)).catch(() => null) : null;
}

/**
 * A worktree of an attempt of this ledger that is no longer live was left by a crash (between the outcome and
 * the removal, or in the pool): remove it, unless the workspace keeps worktrees. Unknown attempts are not ours.
 */
async function removeLeftoverWorktrees(ctx: RecoveryContext): Promise<void> {
  const { store, config, logger } = ctx.deps;
  const keep = (attemptId: string) => {
    const a = store.getAttempt(attemptId);
    return !a || ENGINE_LIVE.includes(a.state);
  };
  for (const ws of Object.values(config.current.workspaces)) {
    if (ws.keepWorktrees) continue;
    try {
      const removed = await ctx.worktrees(ws).removeLeftovers(ws.path, keep);
      if (removed.length > 0) logger?.info({ workspace: ws.name, attempts: removed }, 'removed leftover worktrees');
    } catch (err) {
      logger?.warn({ err, workspace: ws.name }, 'could not remove leftover worktrees');
    }
  }
}

/** Steps of open runs whose attempts all ended (or wait) but that were not settled before the stop. */
function settleWaitingSteps(deps: EngineDeps): void {
  const { store, config } = deps;
  let cursor: string | undefined;
  do {
    const page = store.listRuns({ workspaceIds: null, state: 'open', limit: 100, cursor });
    for (const run of page.runs) {
      for (const s of store.getRunDetail(run.runId)?.steps ?? []) if (s.state === 'running') openApprovalGateIfReady(store, config, s.stepId);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
