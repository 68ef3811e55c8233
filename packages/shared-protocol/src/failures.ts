import * as z from 'zod';

/**
 * Every code a daemon of this version records as an attempt's `failureCode`, with its meaning. Closed for writers:
 * the daemon can only record one of these. docs/EXECUTORS.md lists exactly this table (a test checks).
 */
export const ATTEMPT_FAILURES = {
  EXECUTOR_NOT_FOUND: "the executor's program is not on the child `PATH` (or the absolute path is not an executable file)",
  EXECUTOR_TOO_OLD: '`--version` reports a version below the required minimum',
  EXECUTOR_VERSION_UNKNOWN: 'a minimum or a tested range applies but `--version` printed no `x.y.z`',
  EXECUTOR_INCOMPATIBLE: "the CLI's `--help` lacks a flag the adapter needs (named in the summary); nothing ran, there is no fallback",
  EXECUTOR_PREFLIGHT_TIMEOUT: "the CLI's `--version` or `--help` did not answer within the preflight bound (60 s); nothing ran",
  EXECUTOR_MISCONFIGURED: 'the entry is unusable (e.g. `command` without argv) or no longer configured',
  EXECUTOR_START_FAILED: 'the program could not be started (spawn error)',
  EXECUTOR_FAILED: 'the program exited non-zero or was killed by a signal',
  EXECUTOR_REPORTED_FAILURE: 'the agent reported failure in its structured output',
  EXECUTOR_DENIED: "the agent's CLI refused actions under the executor's policy (listed in the summary and the `attempt.denied` event); its work is on the attempt branch, the run branch did not move",
  SANDBOX_UNAVAILABLE: 'the sandbox could not be set up (bubblewrap missing, the kernel refused its namespaces, no way to bound processes, or a policy path would expose a protected folder); the summary says which. Nothing ran',
  SETUP_FAILED: "the workspace's `setup` step failed in the fresh worktree (its output is an artifact); the executor did not run",
  AUTH_FAILED: "the agent's CLI could not authenticate to its model API (the CLI's own message is the summary)",
  TASK_NOT_UNDERSTOOD: 'the task held nothing the executor acts on (a `simulation` task without a directive); nothing changed',
  STALLED: "the executor printed nothing for its `idleTimeout`; the process group was stopped",
  VALIDATION_FAILED: 'at least one validation failed (see the validation results)',
  VALIDATION_NOT_DEFINED: 'a validation the step names is no longer configured',
  TIMED_OUT: 'the step timeout elapsed; the process group was stopped (state `timed_out`)',
  CANCELLED: 'cancelled by `attempts.cancel` or `runs.abort` (state `cancelled`)',
  NOT_SELECTED: 'another attempt of the step was accepted at the approval gate (state `cancelled`)',
  REJECTED: 'the approval gate was rejected',
  RUN_BRANCH_MOVED: 'the run branch changed underneath; nothing was overwritten',
  WORKTREE_FAILED: 'git could not create the worktree (the worktree is removed)',
  CAPTURE_FAILED: 'git could not commit the changes (the worktree is removed)',
  CAPTURE_PATH_REFUSED: 'the agent wrote a path git refuses to track (`.git` in any letter case); nothing was committed, the worktree is removed',
  DIFF_TOO_LARGE: 'the diff passed `artifacts.diffLimit`; the commit is on the attempt branch, no diff was stored',
  ARTIFACT_LIMIT_EXCEEDED: "the attempt's artifacts passed `artifacts.attemptLimit`; the artifact that would pass it was not stored",
  DAEMON_RESTARTED: 'the daemon died while the attempt was live (state `interrupted`)',
  DAEMON_STOPPED: 'the daemon stopped while the attempt was live (state `interrupted`)',
  WORKSPACE_NOT_FOUND: 'the workspace was removed',
  INTERNAL: 'an engine bug (see the daemon log)',
} as const satisfies Record<string, string>;

export type AttemptFailureCode = keyof typeof ATTEMPT_FAILURES;
export const ATTEMPT_FAILURE_CODES = Object.keys(ATTEMPT_FAILURES) as AttemptFailureCode[];
/** The writer's schema: only a code of this version. */
export const AttemptFailureCode = z.enum(ATTEMPT_FAILURE_CODES as [AttemptFailureCode, ...AttemptFailureCode[]]);

/**
 * The reader's schema: any code-shaped text. A newer daemon may record a code this version does not know; it is
 * kept and shown as it is, never refused.
 */
export const FailureCodeOnWire = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an UPPER_SNAKE failure code');

/** True when the code is one this version knows (and can describe). */
export function isKnownFailureCode(code: string): code is AttemptFailureCode {
  return Object.prototype.hasOwnProperty.call(ATTEMPT_FAILURES, code);
}

/** The failure table as Markdown; docs/EXECUTORS.md must contain exactly this. */
export function renderFailureTableMarkdown(): string {
  const rows = ATTEMPT_FAILURE_CODES.map((c) => `| \`${c}\` | ${ATTEMPT_FAILURES[c]} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}
