import type { AttemptState, StepState } from '@sluice/shared-protocol';
import type { ConfigHolder } from '../config/config-holder.js';
import { unreleasedFindings } from '../secrets/findings.js';
import type { AttemptPatch, Store } from '../store/index.js';
import { ENGINE_ACTOR } from './engine-port.js';
import { attemptEnded, stepIsFinal, stepIsLive } from './step-state.js';

/** How an attempt ends when it does not succeed or wait for approval. */
export type AttemptEnding = Extract<AttemptState, 'failed' | 'cancelled' | 'timed_out' | 'interrupted'>;

/**
 * When every latest attempt of a step has ended, move the step to its outcome: succeeded if one succeeded,
 * cancelled if all were cancelled, failed otherwise. Returns the new state, or null when nothing changed.
 */
export function settleStepIfDone(store: Store, stepId: string, actor: string): StepState | null {
  return store.transaction(() => {
    const step = store.getStep(stepId);
    if (!step || stepIsFinal(step.state)) return null;
    if (!step.attempts.every((a) => attemptEnded(a.state))) return null;
    const succeeded = step.attempts.find((a) => a.state === 'succeeded');
    const to: StepState = succeeded ? 'succeeded' : step.attempts.every((a) => a.state === 'cancelled') ? 'cancelled' : 'failed';
    store.transitionStep(stepId, to, succeeded ? { acceptedAttemptId: step.acceptedAttemptId ?? succeeded.attemptId } : {}, actor);
    return to;
  });
}

/**
 * When every latest attempt of a step has ended or waits for approval: open one approval gate naming the
 * waiting ones as candidates, or settle the step when none is waiting. Recorded as the engine's doing.
 */
export function openApprovalGateIfReady(store: Store, config: ConfigHolder, stepId: string): void {
  const actor = ENGINE_ACTOR;
  store.transaction(() => {
    const step = store.getStep(stepId);
    if (!step || !stepIsLive(step.state)) return;
    if (!step.attempts.every((x) => attemptEnded(x.state) || x.state === 'awaiting_approval')) return;
    const candidates = step.attempts.filter((x) => x.state === 'awaiting_approval').map((x) => x.attemptId);
    if (candidates.length === 0) {
      settleStepIfDone(store, stepId, actor);
      return;
    }
    const ws = config.workspace(store.getRun(step.runId)?.workspaceId ?? '');
    const withSecrets = candidates.filter((id) => unreleasedFindings(store, id).length > 0);
    const rule =
      withSecrets.length > 0
        ? `secret review: credential shapes found in ${withSecrets.join(', ')}; only the local operator can accept it`
        : step.attemptsRequested > 1
        ? `choose one of ${candidates.length} passing attempt(s)`
        : ws?.approval.policy === 'always'
          ? 'workspace approval policy: always'
          : 'approval requested by the planner';
    const attributesChangedBy = store.attemptsWithChangedAttributes(step.runId, candidates);
    store.createGate({ runId: step.runId, stepId, attemptId: candidates.length === 1 ? candidates[0]! : null, kind: 'approval', rule, candidates, attributesChangedBy }, actor);
    store.transitionStep(stepId, 'awaiting_approval', {}, actor);
  });
}

/** Record an attempt's ending (unless it has already ended), then settle its step or open its approval gate. */
export function recordAttemptEnding(store: Store, config: ConfigHolder, attemptId: string, to: AttemptEnding, patch: AttemptPatch, actor: string = ENGINE_ACTOR): void {
  store.transaction(() => {
    const now = store.getAttempt(attemptId);
    if (!now) return;
    if (!attemptEnded(now.state)) store.transitionAttempt(attemptId, to, patch, actor);
    openApprovalGateIfReady(store, config, now.stepId);
  });
}

/**
 * Cancel an attempt no process runs for (queued, or waiting for approval): record `cancelled`, cancel an approval
 * gate left without a live candidate, then open the step's gate or settle the step.
 */
export function cancelIdleAttempt(store: Store, config: ConfigHolder, attemptId: string, reason: string | null, actor: string): void {
  store.transaction(() => {
    const a = store.getAttempt(attemptId);
    if (!a) return;
    store.transitionAttempt(attemptId, 'cancelled', { failureCode: 'CANCELLED', decisionReason: reason }, actor);
    for (const g of store.listGates(a.runId, 'pending')) {
      if (g.stepId !== a.stepId || g.kind !== 'approval') continue;
      const left = g.candidates.filter((id) => !attemptEnded(store.getAttempt(id)?.state ?? 'cancelled'));
      if (left.length === 0) store.decideGate(g.gateId, { status: 'cancelled', reason: 'every candidate attempt was cancelled' }, actor);
    }
    openApprovalGateIfReady(store, config, a.stepId);
    settleStepIfDone(store, a.stepId, actor);
  });
}
