import * as z from 'zod';
import { Actor } from './actors.js';
import { ArtifactId, AttemptId, Digest, GateId, InstanceId, Name, RunId, StepId } from './ids.js';
import { FailureCodeOnWire } from './failures.js';

/** ISO-8601 timestamp as written by the daemon and relay. */
export const Timestamp = z.string().datetime({ offset: true });

export const RUN_STATES = ['open', 'completed', 'aborted'] as const;
export const RunState = z.enum(RUN_STATES);
export type RunState = z.infer<typeof RunState>;

export const STEP_STATES = ['queued', 'running', 'awaiting_approval', 'succeeded', 'failed', 'cancelled'] as const;
export const StepState = z.enum(STEP_STATES);
export type StepState = z.infer<typeof StepState>;
/** A step is settled when `steps.wait` can return: it finished or it needs a decision. */
export const SETTLED_STEP_STATES: readonly StepState[] = ['succeeded', 'failed', 'cancelled', 'awaiting_approval'];

export const ATTEMPT_STATES = [
  'queued',
  'preparing',
  'running',
  'validating',
  'awaiting_approval',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
] as const;
export const AttemptState = z.enum(ATTEMPT_STATES);
export type AttemptState = z.infer<typeof AttemptState>;
export const TERMINAL_ATTEMPT_STATES: readonly AttemptState[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];
export const LIVE_ATTEMPT_STATES: readonly AttemptState[] = ['queued', 'preparing', 'running', 'validating'];

export const ApprovalPolicy = z.enum(['none', 'always']);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

/** What a planner may know of a shared workspace: names only, never paths. */
export const WorkspaceSummary = z.object({
  workspaceId: Name,
  name: z.string().max(200),
  executors: z.array(Name).max(64),
  validations: z.array(Name).max(256),
  approvalPolicy: ApprovalPolicy,
  remoteApprovals: z.boolean(),
  /**
   * `false` while the instance's daemon cannot be reached: the workspace is still shared, calls to it answer
   * `DAEMON_UNAVAILABLE` (retry later). Absent means available.
   */
  available: z.boolean().optional(),
});
export type WorkspaceSummary = z.infer<typeof WorkspaceSummary>;

export const Instance = z.object({
  instanceId: InstanceId,
  name: z.string().max(200),
  online: z.boolean(),
  lastSeenAt: Timestamp.nullable(),
  workspaces: z.array(WorkspaceSummary),
});
export type Instance = z.infer<typeof Instance>;

export const Run = z.object({
  runId: RunId,
  workspaceId: Name,
  title: z.string(),
  state: RunState,
  baseRef: z.string(),
  baseCommit: z.string(),
  branch: z.string(),
  headCommit: z.string(),
  createdBy: Actor,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Run = z.infer<typeof Run>;

export const Attempt = z.object({
  attemptId: AttemptId,
  stepId: StepId,
  runId: RunId,
  number: z.number().int().min(1),
  state: AttemptState,
  executor: Name,
  branch: z.string(),
  baseCommit: z.string(),
  commit: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  /** One of `ATTEMPT_FAILURE_CODES` when written by this version; a newer daemon's code is kept as it is. */
  failureCode: FailureCodeOnWire.nullable(),
  /** What the executor (or the engine, for its own failures) said of the attempt; a decision never replaces it. */
  summary: z.string().nullable(),
  /**
   * Why the attempt was cancelled or rejected, as the canceller or the deciding reviewer gave it. Optional on the
   * wire only because an older daemon does not send it.
   */
  decisionReason: z.string().nullable().optional(),
  /** Files the attempt changed against its base; null until its work is captured. */
  changedFiles: z.number().int().min(0).nullable(),
  /**
   * How many actions the agent's CLI refused under the executor's policy (each listed in an `attempt.denied`
   * event); such an attempt fails `EXECUTOR_DENIED`. Every daemon of this version sets it; optional on the wire
   * only because a 0.1.0 daemon does not.
   */
  deniedActions: z.number().int().min(0).optional(),
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Attempt = z.infer<typeof Attempt>;

export const Step = z.object({
  stepId: StepId,
  runId: RunId,
  seq: z.number().int().min(1),
  executor: Name,
  task: z.string(),
  validations: z.array(Name),
  approvalRequired: z.boolean(),
  timeoutMs: z.number().int(),
  attemptsRequested: z.number().int().min(1),
  state: StepState,
  acceptedAttemptId: AttemptId.nullable(),
  idempotencyKey: z.string().nullable(),
  createdBy: Actor,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** The latest attempt of each parallel slot. */
  attempts: z.array(Attempt),
  /** True when the accepted attempt changed no file: the step succeeded without changing the run branch. */
  noChanges: z.boolean().optional(),
});
export type Step = z.infer<typeof Step>;

/** What the workspace policy made of a dispatch request, where it differs from what was asked. */
export const DispatchEffective = z.object({
  approval: z.boolean(),
  reason: z.string().max(500),
});

/** The answer to `steps.dispatch`: the step as it is now. */
export const DispatchAnswer = Step.extend({
  /** True when the idempotency key named a step dispatched before: this is that step as it is now, nothing new was queued. */
  replayed: z.boolean().optional(),
  /** Present when the workspace policy overrode part of the request. */
  effective: DispatchEffective.optional(),
});
export type DispatchAnswer = z.infer<typeof DispatchAnswer>;

/** The size of a change between two commits. */
export const ChangeStats = z.object({
  files: z.number().int().min(0),
  insertions: z.number().int().min(0),
  deletions: z.number().int().min(0),
});
export type ChangeStats = z.infer<typeof ChangeStats>;

/** One changed path of a diffstat; binary files count no lines. */
export const ChangedPath = z.object({
  path: z.string().max(4096),
  status: z.string().max(2),
  insertions: z.number().int().min(0),
  deletions: z.number().int().min(0),
  binary: z.boolean(),
});
export type ChangedPath = z.infer<typeof ChangedPath>;

export const GateKind = z.enum(['validation', 'approval']);
export const GateStatus = z.enum(['pending', 'passed', 'failed', 'approved', 'rejected', 'cancelled']);
export type GateStatus = z.infer<typeof GateStatus>;

export const Gate = z.object({
  gateId: GateId,
  runId: RunId,
  stepId: StepId,
  attemptId: AttemptId.nullable(),
  kind: GateKind,
  status: GateStatus,
  rule: z.string(),
  /** Attempts that can be accepted at an approval gate. */
  candidates: z.array(AttemptId),
  acceptedAttemptId: AttemptId.nullable(),
  /**
   * The run's base as asked for and as resolved, so a reviewer sees what history every diff sits on. Every daemon
   * of this version sets both; optional on the wire only because a 0.1.0 daemon behind a newer relay does not.
   */
  baseRef: z.string().optional(),
  baseCommit: z.string().optional(),
  decidedBy: Actor.nullable(),
  reason: z.string().nullable(),
  createdAt: Timestamp,
  decidedAt: Timestamp.nullable(),
});
export type Gate = z.infer<typeof Gate>;

export const ValidationResult = z.object({
  attemptId: AttemptId,
  name: Name,
  argv: z.array(z.string()),
  passed: z.boolean(),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number().int().min(0),
  stdoutDigest: Digest.nullable(),
  stderrDigest: Digest.nullable(),
  createdAt: Timestamp,
});
export type ValidationResult = z.infer<typeof ValidationResult>;

export const ARTIFACT_KINDS = ['diff', 'changed-files', 'stdout', 'stderr', 'log', 'summary', 'validation-stdout', 'validation-stderr', 'task'] as const;
export const ArtifactKind = z.enum(ARTIFACT_KINDS);

export const ArtifactRef = z.object({
  artifactId: ArtifactId,
  digest: Digest,
  size: z.number().int().min(0),
  mediaType: z.string().max(200),
  kind: ArtifactKind,
  name: z.string().max(200),
  runId: RunId,
  stepId: StepId.nullable(),
  attemptId: AttemptId.nullable(),
  createdAt: Timestamp,
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;


/**
 * How one workspace executor's program stands, as `sluice executors check` and preflight see it: `ready`;
 * `untested-version` (outside the adapter's tested range, every needed flag present: it runs, with a warning);
 * `incompatible` (a needed flag is missing from its `--help`, or its version is too old or unreadable: attempts fail);
 * `not-found` (not on the child PATH); `error` (misconfigured, or its `--version`/`--help` did not answer in time).
 */
export const EXECUTOR_CHECK_STATUSES = ['ready', 'untested-version', 'incompatible', 'not-found', 'error'] as const;
export const ExecutorCheckStatus = z.enum(EXECUTOR_CHECK_STATUSES);
export type ExecutorCheckStatus = z.infer<typeof ExecutorCheckStatus>;

/** One executor's check: facts about the program and where its credentials would come from, names only, never values. */
export const ExecutorCheck = z.object({
  workspaceId: Name,
  executor: Name,
  adapter: z.string(),
  status: ExecutorCheckStatus,
  /** The program as configured, and where it was found on the child PATH. */
  binary: z.string().nullable(),
  binaryPath: z.string().nullable(),
  version: z.string().nullable(),
  /** The versions the adapter is tested with; null for the operator's own programs (command, simulation). */
  testedRange: z.string().nullable(),
  /** The flags the adapter needs, found in or missing from the CLI's `--help`. */
  capabilities: z.object({ found: z.array(z.string()), missing: z.array(z.string()) }),
  /**
   * Credentials the CLI can read: each env name it knows, whether the entry passes it (`env`) and whether the
   * environment has it; each login file under the operator's HOME, used only with `policy.home.passThrough`.
   * `ready`: at least one usable source; null where Sluice knows no credential sources (command, simulation).
   */
  auth: z.object({
    env: z.array(z.object({ name: z.string(), passed: z.boolean(), present: z.boolean() })),
    files: z.array(z.object({ path: z.string(), present: z.boolean(), used: z.boolean() })),
    ready: z.boolean().nullable(),
  }),
  /** What an attempt would fail with now (the attempt's `failureCode`), or null. */
  failureCode: FailureCodeOnWire.nullable(),
  /** Why it is not ready, in words. */
  message: z.string().nullable(),
  /** What runs but deserves attention (an untested version, …). */
  warnings: z.array(z.string()),
});
export type ExecutorCheck = z.infer<typeof ExecutorCheck>;

/** The output of `sluice executors check --json`. */
export const ExecutorCheckReport = z.object({ executors: z.array(ExecutorCheck) });
export type ExecutorCheckReport = z.infer<typeof ExecutorCheckReport>;

/** Whether a child may run commands: none, only the listed prefixes, or any. */
export const CommandsPolicy = z.object({
  kind: z.enum(['none', 'list', 'any']),
  prefixes: z.array(z.string().max(200)).max(32),
});

/**
 * Whether an executor can start now. `status` is open text so a newer daemon can say more (known values:
 * `ready`, `not_found`, `too_old`, `version_unknown`, `misconfigured`).
 */
export const ExecutorReadiness = z.object({
  status: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
  message: z.string().max(1000).nullable(),
  version: z.string().max(100).nullable(),
});

/** One executor of a workspace, as a planner needs to know it to write a task for it. */
export const ExecutorDescription = z.object({
  name: Name,
  adapter: z.string().max(40),
  /** The operator's own words, or null. */
  description: z.string().max(2000).nullable(),
  /** What the task text is to this executor: plain English for an agent, or the simulation's language with an example. */
  task: z.string().max(4000),
  timeout: z.object({ defaultMs: z.number().int(), maxMs: z.number().int() }),
  commands: CommandsPolicy,
  preflight: ExecutorReadiness,
});
export type ExecutorDescription = z.infer<typeof ExecutorDescription>;

export const ValidationDescription = z.object({
  name: Name,
  description: z.string().max(2000).nullable(),
  timeoutMs: z.number().int(),
  /** Only when the operator set `showArgv`. */
  argv: z.array(z.string()).optional(),
});
export type ValidationDescription = z.infer<typeof ValidationDescription>;

/** What a planner may know of how a shared workspace runs steps: executors, validations and the rules. */
export const WorkspaceDescription = z.object({
  workspaceId: Name,
  name: z.string().max(200),
  executors: z.array(ExecutorDescription).max(64),
  validations: z.array(ValidationDescription).max(256),
  approval: z.object({ policy: ApprovalPolicy, remote: z.boolean(), note: z.string().max(500) }),
  attempts: z.object({ maxPerStep: z.number().int(), concurrency: z.number().int(), note: z.string().max(500) }),
  steps: z.object({ order: z.literal('sequential'), note: z.string().max(500) }),
  stepTimeout: z.object({ defaultMs: z.number().int(), maxMs: z.number().int(), coversValidations: z.boolean(), note: z.string().max(500) }),
});
export type WorkspaceDescription = z.infer<typeof WorkspaceDescription>;

/** A page cursor for list verbs: opaque text. */
export const PageCursor = z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/);
