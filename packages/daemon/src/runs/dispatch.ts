import { LIMITS, SluiceError, type DispatchAnswer, type Run, type VerbInput } from '@sluice/shared-protocol';
import { verbInputHash } from '@sluice/node-kit';
import type { WorkspaceConfig } from '../config/schema.js';
import type { DispatchStepInput } from '../store/index.js';

/**
 * What a `steps.dispatch` queues in a workspace: the executor and validations must be configured there, the
 * workspace's `always` policy adds an approval, the timeout falls back to the executor's. The request hash is the
 * canonical form of the input, so the same idempotency key with another input is `IDEMPOTENCY_CONFLICT`.
 */
export function planDispatch(run: Run, ws: WorkspaceConfig, i: VerbInput<'steps.dispatch'>, actor: string): DispatchStepInput {
  const executor = Object.prototype.hasOwnProperty.call(ws.executors, i.executor) ? ws.executors[i.executor] : undefined;
  if (!executor) {
    const allowed = Object.keys(ws.executors);
    throw new SluiceError('EXECUTOR_NOT_ALLOWED', `Executor ${i.executor} is not configured for workspace ${run.workspaceId}; it has ${namesOf(allowed)}.`, undefined, { allowed });
  }
  const validations = i.validations ?? [];
  for (const v of validations) {
    if (!Object.prototype.hasOwnProperty.call(ws.validations, v)) {
      const allowed = Object.keys(ws.validations);
      throw new SluiceError('VALIDATION_NOT_DEFINED', `Validation ${v} is not configured for workspace ${run.workspaceId}; it has ${namesOf(allowed)}.`, undefined, { allowed });
    }
  }
  return {
    runId: run.runId,
    executor: i.executor,
    task: i.task,
    validations,
    approvalRequired: ws.approval.policy === 'always' || (i.approval ?? false),
    timeoutMs: i.timeoutMs ?? executor.timeout ?? LIMITS.stepTimeoutMs.default,
    attemptsRequested: i.attempts ?? 1,
    idempotencyKey: i.idempotencyKey ?? null,
    requestHash: verbInputHash('steps.dispatch', i),
    actor,
  };
}

/** What the workspace policy changed of a dispatch request, or null when it ran as asked. */
export function dispatchOverrides(ws: WorkspaceConfig, i: VerbInput<'steps.dispatch'>): DispatchAnswer['effective'] | null {
  if (ws.approval.policy === 'always' && i.approval !== true) return { approval: true, reason: 'workspace approval policy is always: every step waits at an approval gate' };
  return null;
}

function namesOf(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}
