import { SluiceError, type Gate } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';
import type { EnginePort } from './engine-port.js';
import { attemptEnded, stepIsOpen } from './step-state.js';

/** A human's decision on an approval gate: approve one candidate (named, or the only one) or reject them all. */
export interface GateDecision {
  approve: boolean;
  attemptId: string | undefined;
  reason: string | null;
}

/**
 * The outcome of a decision on an approval gate the caller may decide. A decided gate answers a repeat of its
 * decision with itself and anything else with `GATE_ALREADY_DECIDED`. Approving moves the run branch first (by
 * compare-and-swap, through the engine), then records the gate, the chosen attempt `succeeded`, the other candidates
 * `cancelled` (`NOT_SELECTED`) and the step `succeeded`. Rejecting fails the candidates (`REJECTED`) and the step.
 */
export async function decideApprovalGate(deps: { store: Store; engine: EnginePort }, gate: Gate, d: GateDecision, actor: string): Promise<Gate> {
  if (gate.status !== 'pending') {
    const same = d.approve ? gate.status === 'approved' && (d.attemptId === undefined || d.attemptId === gate.acceptedAttemptId) : gate.status === 'rejected';
    if (same) return gate;
    throw new SluiceError('GATE_ALREADY_DECIDED');
  }
  if (!d.approve) return recordRejection(deps.store, gate, d.reason, actor);
  const chosen = chosenCandidate(deps.store, gate, d.attemptId);
  await deps.engine.acceptAttempt(gate.gateId, chosen, actor);
  return recordApproval(deps.store, gate, chosen, d.reason, actor);
}

function chosenCandidate(store: Store, gate: Gate, named: string | undefined): string {
  if (named === undefined && gate.candidates.length !== 1) {
    throw new SluiceError('ATTEMPT_CHOICE_REQUIRED', `Several attempts passed; name one of ${gate.candidates.join(', ')} as attemptId.`, undefined, { allowed: gate.candidates });
  }
  const chosen = named ?? gate.candidates[0]!;
  if (!gate.candidates.includes(chosen)) throw new SluiceError('ATTEMPT_NOT_ACCEPTABLE', 'That attempt is not a candidate of this gate.', undefined, { allowed: gate.candidates });
  const attempt = store.getAttempt(chosen);
  if (!attempt || attempt.state !== 'awaiting_approval') throw new SluiceError('ATTEMPT_NOT_ACCEPTABLE', 'That attempt is not awaiting approval.');
  return chosen;
}

function recordRejection(store: Store, gate: Gate, reason: string | null, actor: string): Gate {
  return store.transaction(() => {
    const decided = store.decideGate(gate.gateId, { status: 'rejected', reason }, actor);
    for (const id of gate.candidates) {
      const a = store.getAttempt(id);
      if (a && !attemptEnded(a.state)) store.transitionAttempt(id, 'failed', { failureCode: 'REJECTED', decisionReason: reason }, actor);
    }
    const step = store.getStep(gate.stepId)!;
    if (stepIsOpen(step.state)) store.transitionStep(step.stepId, 'failed', {}, actor);
    return decided;
  });
}

function recordApproval(store: Store, gate: Gate, accepted: string, reason: string | null, actor: string): Gate {
  return store.transaction(() => {
    const decided = store.decideGate(gate.gateId, { status: 'approved', acceptedAttemptId: accepted, reason }, actor);
    store.transitionAttempt(accepted, 'succeeded', {}, actor);
    for (const id of gate.candidates) {
      const a = store.getAttempt(id);
      if (id !== accepted && a && !attemptEnded(a.state)) store.transitionAttempt(id, 'cancelled', { failureCode: 'NOT_SELECTED' }, actor);
    }
    const step = store.getStep(gate.stepId)!;
    if (step.state !== 'succeeded') store.transitionStep(step.stepId, 'succeeded', { acceptedAttemptId: accepted }, actor);
    return decided;
  });
}
