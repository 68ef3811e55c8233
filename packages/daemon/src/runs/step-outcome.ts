import { TERMINAL_ATTEMPT_STATES, type StepState } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';

/**
 * When every latest attempt of a step has ended, move the step to its outcome: succeeded if one succeeded,
 * cancelled if all were cancelled, failed otherwise. Returns the new state, or null when nothing changed.
 */
export function settleStepIfDone(store: Store, stepId: string, actor: string): StepState | null {
  return store.transaction(() => {
    const step = store.getStep(stepId);
    if (!step || step.state === 'succeeded' || step.state === 'failed' || step.state === 'cancelled') return null;
    if (!step.attempts.every((a) => TERMINAL_ATTEMPT_STATES.includes(a.state))) return null;
    const succeeded = step.attempts.find((a) => a.state === 'succeeded');
    const to: StepState = succeeded ? 'succeeded' : step.attempts.every((a) => a.state === 'cancelled') ? 'cancelled' : 'failed';
    store.transitionStep(stepId, to, succeeded ? { acceptedAttemptId: step.acceptedAttemptId ?? succeeded.attemptId } : {}, actor);
    return to;
  });
}
