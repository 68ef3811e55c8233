import { SluiceError, TERMINAL_ATTEMPT_STATES } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';
import type { ConfigHolder } from './config-holder.js';
import type { EnginePort } from './engine-port.js';
import { fastForwardRun } from './run-branch.js';
import { settleStepIfDone } from './step-outcome.js';

/**
 * An engine that runs nothing: queued attempts stay queued, cancel records `cancelled` directly (there is no
 * process to wait for), accept moves the run branch by compare-and-swap and records the new head.
 */
export class RecordOnlyEngine implements EnginePort {
  constructor(private readonly deps: { store: Store; config: ConfigHolder }) {}

  notify(): void {}

  cancelAttempt(attemptId: string, reason: string | null, actor: string): Promise<void> {
    const { store } = this.deps;
    const attempt = store.getAttempt(attemptId);
    if (!attempt) return Promise.reject(new SluiceError('ATTEMPT_NOT_FOUND'));
    if (TERMINAL_ATTEMPT_STATES.includes(attempt.state)) return Promise.resolve();
    store.transaction(() => {
      store.transitionAttempt(attemptId, 'cancelled', { failureCode: 'CANCELLED', summary: reason }, actor);
      settleStepIfDone(store, attempt.stepId, actor);
    });
    return Promise.resolve();
  }

  async acceptAttempt(_gateId: string, attemptId: string, actor: string): Promise<void> {
    const { store, config } = this.deps;
    const attempt = store.getAttempt(attemptId);
    if (!attempt) throw new SluiceError('ATTEMPT_NOT_FOUND');
    if (!attempt.commit) throw new SluiceError('ATTEMPT_NOT_ACCEPTABLE', 'The attempt has no commit to accept.');
    const run = store.getRun(attempt.runId);
    if (!run) throw new SluiceError('RUN_NOT_FOUND');
    await fastForwardRun(store, config.requireWorkspace(run.workspaceId).path, run.runId, attempt.commit, actor);
  }
}
