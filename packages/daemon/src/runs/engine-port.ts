import { systemActor } from '@sluice/shared-protocol';

/** The actor recorded on rows the engine writes on its own behalf. */
export const ENGINE_ACTOR = systemActor('engine');

/**
 * The seam between the verb services (which record) and the execution engine (which runs things). The
 * services call it; the engine owns processes, worktrees and the attempt lifecycle after `queued`.
 */
export interface EnginePort {
  /** A step was queued or retried: look for queued attempts to start. Must not throw. */
  notify(): void;
  /**
   * Cancel an attempt and resolve once it is terminal (for a running attempt: after its process group exited).
   * Resolves at once when the attempt is already terminal.
   */
  cancelAttempt(attemptId: string, reason: string | null, actor: string): Promise<void>;
  /**
   * Fast-forward the run branch to the attempt's commit by compare-and-swap and record the new head
   * (`setRunHead`). Throws `SluiceError('RUN_BRANCH_MOVED')` when the branch changed underneath. The caller
   * records the gate decision and the attempt and step outcomes afterwards.
   */
  acceptAttempt(gateId: string, attemptId: string, actor: string): Promise<void>;
  /** Optional: stop work when the app closes (called once, from Fastify's onClose). */
  close?(): Promise<void>;
}
