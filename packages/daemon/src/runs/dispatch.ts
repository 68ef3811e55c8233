import { LIMITS, SluiceError, type Run, type VerbInput } from '@sluice/shared-protocol';
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
  if (!executor) throw new SluiceError('EXECUTOR_NOT_ALLOWED', `Executor ${i.executor} is not configured for workspace ${run.workspaceId}.`);
  const validations = i.validations ?? [];
  for (const v of validations) {
    if (!Object.prototype.hasOwnProperty.call(ws.validations, v)) throw new SluiceError('VALIDATION_NOT_DEFINED', `Validation ${v} is not configured for workspace ${run.workspaceId}.`);
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
