import { SluiceError, TERMINAL_ATTEMPT_STATES } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';
import type { ConfigHolder } from '../config/config-holder.js';
import type { EnginePort } from '../runs/engine-port.js';
import { acceptAttemptCommit } from '../runs/run-branch.js';
import { settleStepIfDone } from '../runs/step-outcome.js';

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
    await acceptAttemptCommit(this.deps.store, this.deps.config, attemptId, actor);
  }
}
