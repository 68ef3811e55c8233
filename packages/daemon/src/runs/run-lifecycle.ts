import { LIVE_ATTEMPT_STATES, SluiceError, type Run } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';
import type { EnginePort } from './engine-port.js';
import { stepIsLive, stepIsOpen } from './step-state.js';

/**
 * Complete an open run (a completed one answers with itself). Refused while a step is queued or running, and while
 * a gate is pending: a close must not silently discard work waiting for a human.
 */
export function closeRun(store: Store, run: Run, actor: string): Run {
  return store.transaction(() => {
    if (run.state === 'completed') return run;
    if (run.state !== 'open') throw new SluiceError('RUN_NOT_OPEN');
    const detail = store.getRunDetail(run.runId)!;
    if (detail.steps.some((s) => stepIsLive(s.state))) throw new SluiceError('RUN_HAS_LIVE_STEPS');
    if (store.listGates(run.runId, 'pending').length > 0) throw new SluiceError('RUN_HAS_PENDING_GATES');
    return store.transitionRun(run.runId, 'completed', actor);
  });
}

/**
 * Abort a run (again: finish what an earlier abort left): the run first, so it refuses new steps, then every live
 * or waiting attempt is cancelled through the engine, then the pending gates and the open steps are cancelled.
 */
export async function abortRun(deps: { store: Store; engine: EnginePort }, run: Run, reason: string | null, actor: string): Promise<Run> {
  const { store, engine } = deps;
  if (run.state === 'completed') throw new SluiceError('RUN_NOT_OPEN');
  if (run.state === 'open') store.transitionRun(run.runId, 'aborted', actor, { reason });
  const live = store.attemptsInStates([...LIVE_ATTEMPT_STATES, 'awaiting_approval'], run.runId);
  await Promise.all(live.map((a) => engine.cancelAttempt(a.attemptId, reason ?? 'run aborted', actor)));
  store.transaction(() => {
    for (const g of store.listGates(run.runId, 'pending')) store.decideGate(g.gateId, { status: 'cancelled', reason: reason ?? 'run aborted' }, actor);
    for (const s of store.getRunDetail(run.runId)!.steps) {
      if (stepIsOpen(s.state)) store.transitionStep(s.stepId, 'cancelled', {}, actor);
    }
  });
  return store.getRun(run.runId)!;
}
