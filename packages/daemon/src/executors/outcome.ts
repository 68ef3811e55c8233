import type { ProcessResult } from '../process/supervisor.js';
import type { ParsedOutput } from './executor-types.js';
import { clipSummary } from './output-text.js';

/** Attempt failure codes decided from how an executor ended (see docs/EXECUTORS.md). */
export type ExecutorOutcomeCode = 'TIMED_OUT' | 'STALLED' | 'EXECUTOR_START_FAILED' | 'AUTH_FAILED' | 'EXECUTOR_FAILED' | 'EXECUTOR_REPORTED_FAILURE' | 'EXECUTOR_DENIED' | 'TASK_NOT_UNDERSTOOD';

export interface ExecutorFailure {
  code: ExecutorOutcomeCode;
  summary: string;
}

/** How many denied actions a summary names before it says "and N more". */
const DENIALS_NAMED = 3;

/** The denied actions in one line for a summary. */
export function deniedSummary(denied: readonly string[]): string {
  const named = denied.slice(0, DENIALS_NAMED).join('; ');
  const more = denied.length > DENIALS_NAMED ? ` and ${denied.length - DENIALS_NAMED} more` : '';
  return `the agent was denied ${denied.length} action(s) its policy does not allow: ${named}${more}`;
}

/**
 * Why an executor's run is a failure, or null when it succeeded. The process ending comes first (timeout,
 * stall, spawn error), then what the CLI said: refused credentials, a non-zero exit, a failure it reported, and
 * actions its permission controls denied (a run whose agent was denied something is never silently a success).
 */
export function executorFailure(result: ProcessResult, parsed: ParsedOutput, limits: { timeoutMs?: number | undefined; idleTimeoutMs?: number | undefined }): ExecutorFailure | null {
  if (result.timedOut) return { code: 'TIMED_OUT', summary: `the executor ran longer than ${limits.timeoutMs ?? '?'} ms and was stopped` };
  if (result.stalled) return { code: 'STALLED', summary: `the executor printed nothing for ${limits.idleTimeoutMs ?? '?'} ms (idleTimeout) and was stopped` };
  if (result.spawnError) return { code: 'EXECUTOR_START_FAILED', summary: result.spawnError.message };
  if (parsed.authFailure) return { code: 'AUTH_FAILED', summary: parsed.authFailure };
  if (parsed.notUnderstood) return { code: 'TASK_NOT_UNDERSTOOD', summary: clipSummary(parsed.notUnderstood) ?? parsed.notUnderstood };
  const reported = clipSummary(parsed.reportedFailure);
  if (result.exitCode !== 0) return { code: 'EXECUTOR_FAILED', summary: reported ?? parsed.summary ?? `the executor exited with ${result.exitCode ?? result.signal}` };
  if (reported) return { code: 'EXECUTOR_REPORTED_FAILURE', summary: reported };
  if (parsed.denied.length > 0) return { code: 'EXECUTOR_DENIED', summary: deniedSummary(parsed.denied) };
  return null;
}
