import type { AttemptState, RunState, StepState } from '@sluice/shared-protocol';
import { TERMINAL_ATTEMPT_STATES } from '@sluice/shared-protocol';

const ATTEMPT_CHAIN: readonly AttemptState[] = ['queued', 'preparing', 'running', 'validating', 'awaiting_approval', 'succeeded'];
const ATTEMPT_ENDINGS: readonly AttemptState[] = ['failed', 'cancelled', 'timed_out', 'interrupted'];

/** Attempt moves: forward along the chain (skips allowed) or from any non-terminal state to an ending. */
export function attemptTransitionAllowed(from: AttemptState, to: AttemptState): boolean {
  if (TERMINAL_ATTEMPT_STATES.includes(from)) return false;
  if (ATTEMPT_ENDINGS.includes(to)) return true;
  const a = ATTEMPT_CHAIN.indexOf(from);
  const b = ATTEMPT_CHAIN.indexOf(to);
  return a >= 0 && b > a;
}

const STEP_MOVES: Record<StepState, readonly StepState[]> = {
  queued: ['running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'],
  running: ['awaiting_approval', 'succeeded', 'failed', 'cancelled'],
  awaiting_approval: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** Step moves; `failed`/`cancelled` → `queued` is a retry. */
export function stepTransitionAllowed(from: StepState, to: StepState): boolean {
  return STEP_MOVES[from].includes(to);
}

/** Run moves: an open run is completed or aborted, once. */
export function runTransitionAllowed(from: RunState, to: RunState): boolean {
  return from === 'open' && (to === 'completed' || to === 'aborted');
}
