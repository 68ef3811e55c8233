import type { Step } from '@sluice/shared-protocol';

/**
 * The acceptance rule: an attempt that passed is accepted at once (the run branch fast-forwards to it) unless its
 * step asks for an approval (the planner's flag, or the workspace's `always` policy at dispatch) or for a choice
 * among several attempts. Then it waits in `awaiting_approval` for a human's decision on the step's gate.
 */
export function needsApproval(step: Pick<Step, 'approvalRequired' | 'attemptsRequested'>): boolean {
  return step.approvalRequired || step.attemptsRequested > 1;
}
