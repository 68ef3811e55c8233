import { TERMINAL_ATTEMPT_STATES, type AttemptState, type StepState } from '@sluice/shared-protocol';

/** An attempt in one of these states has ended for good. */
export function attemptEnded(state: AttemptState): boolean {
  return TERMINAL_ATTEMPT_STATES.includes(state);
}

/** A step with work queued or running: a run with one cannot be closed. */
export function stepIsLive(state: StepState): boolean {
  return state === 'queued' || state === 'running';
}

/** A step that has not reached its outcome yet (live, or waiting for a human): an abort or a rejection ends it. */
export function stepIsOpen(state: StepState): boolean {
  return stepIsLive(state) || state === 'awaiting_approval';
}

/** A step at its outcome (a failed or cancelled one may still be retried). */
export function stepIsFinal(state: StepState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}
