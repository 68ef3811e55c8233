import { describe, expect, it } from 'vitest';
import { StepState } from '@sluice/shared-protocol';
import { needsApproval } from '../src/runs/acceptance.js';
import { stepIsFinal, stepIsLive, stepIsOpen } from '../src/runs/step-state.js';
import { stepTransitionAllowed } from '../src/runs/state-machine.js';

describe('run rules (runs/)', () => {
  it('an attempt that passed is accepted at once unless its step asks for an approval or a choice', () => {
    expect(needsApproval({ approvalRequired: false, attemptsRequested: 1 })).toBe(false);
    expect(needsApproval({ approvalRequired: true, attemptsRequested: 1 })).toBe(true);
    expect(needsApproval({ approvalRequired: false, attemptsRequested: 2 })).toBe(true);
  });

  it('every step state is either open or final, and only a final one may be left for a retry', () => {
    for (const s of StepState.options) {
      expect(stepIsOpen(s) !== stepIsFinal(s), s).toBe(true);
      if (stepIsLive(s)) expect(stepIsOpen(s), s).toBe(true);
      expect(stepTransitionAllowed(s, 'queued'), s).toBe(s === 'failed' || s === 'cancelled');
    }
  });
});
