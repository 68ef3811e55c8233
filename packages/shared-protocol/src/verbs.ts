import * as z from 'zod';
import { AttemptId, Digest, GateId, GitRef, InstanceId, Name, RunId, StepId } from './ids.js';
import { LIMITS } from './limits.js';
import { Cursor, Event } from './events.js';
import { ArtifactRef, Attempt, ChangedPath, ChangeStats, DispatchAnswer, Gate, Instance, PageCursor, Run, RunState, Step, ValidationResult, WorkspaceDescription } from './model.js';
import type { ErrorCode } from './errors.js';
import { PROTOCOL_INPUT_DEFAULTS } from './input-defaults.js';
import type { Scope } from './scopes.js';
import { safeText } from './text.js';

/**
 * How the relay finds the instance that serves a request: answered by the relay itself, by the instance the
 * caller names (or the only one that fits), or by the instance that owns the id in the named input field.
 */
export type VerbRoute = { kind: 'relay' } | { kind: 'instance' } | { kind: 'owner'; field: OwnedIdField };

/** Input fields that name an id some instance owns. */
export type OwnedIdField = 'runId' | 'stepId' | 'attemptId' | 'gateId';

/** What the relay answers for an owned id it does not know, or that the caller may not reach (the same answer). */
export const NOT_FOUND_BY_ID_FIELD: Readonly<Record<OwnedIdField, ErrorCode>> = {
  runId: 'RUN_NOT_FOUND',
  stepId: 'STEP_NOT_FOUND',
  attemptId: 'ATTEMPT_NOT_FOUND',
  gateId: 'GATE_NOT_FOUND',
};

/** A long poll: the input field that says how long the daemon may wait, and what its absence means. */
export interface VerbWait {
  field: 'waitMs' | 'timeoutMs';
  defaultMs: number;
}

/**
 * A verb made idempotent by a key in its input, scoped to the id of its route: the relay keeps the answer's id
 * field for a while and replays a retry by reading it back with `replayVerb`.
 */
export interface VerbIdempotency {
  field: 'idempotencyKey';
  answerField: 'stepId';
  replayVerb: 'steps.get';
}

export interface VerbHints {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
}

export interface VerbSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  /** Dotted verb name, e.g. `runs.open`. */
  name: string;
  /** MCP tool name: the verb with `.` → `_`. */
  mcpName: string;
  title: string;
  description: string;
  input: I;
  output: O;
  scope: Scope;
  hints: VerbHints;
  route: VerbRoute;
  /** What the verb can touch on the operator's machine, for docs/CONNECTOR.md. */
  touches: string;
  /**
   * Paths into the output (`a.b`, `list[].field`) of the ids the answering instance owns; the relay routes later
   * calls naming them to it. Only these fields count: an id-looking string elsewhere (a task, a summary) does not.
   */
  owns: readonly string[];
  wait?: VerbWait;
  idempotency?: VerbIdempotency;
}

function verb<I extends z.ZodType, O extends z.ZodType>(spec: Omit<VerbSpec<I, O>, 'mcpName'>): VerbSpec<I, O> {
  return { ...spec, mcpName: spec.name.replace(/\./g, '_') };
}

const reason = safeText(LIMITS.reasonLength);

/**
 * A verb input field described for a planner. `byDefault` is what leaving the field out means: it is published as
 * the schema's `default` but never applied by parsing, so an omitted field still reaches the daemon as omitted.
 */
function arg<T extends z.ZodType>(schema: T, description: string, byDefault?: unknown): T {
  return schema.meta(byDefault === undefined ? { description } : { description, default: byDefault });
}

/** The protocol default of one input field (input-defaults.ts holds them, for idempotency and for the schemas). */
function protocolDefault<V extends keyof typeof PROTOCOL_INPUT_DEFAULTS>(verb: V, field: keyof (typeof PROTOCOL_INPUT_DEFAULTS)[V]): unknown {
  return PROTOCOL_INPUT_DEFAULTS[verb][field];
}

const runIdArg = (what: string) => arg(RunId, `The run ${what} (run_..., from runs_open, runs_list or runs_get).`);
const stepIdArg = (what: string) => arg(StepId, `The step ${what} (step_..., from steps_dispatch, runs_get or steps_get).`);
const attemptIdArg = (what: string) => arg(AttemptId, `The attempt ${what} (attempt_..., from steps_get, runs_get or gates_list candidates).`);
const gateIdArg = (what: string) => arg(GateId, `The gate ${what} (gate_..., from gates_list or steps_get).`);

export const StepDetail = Step.extend({
  gates: z.array(Gate),
  validationResults: z.array(ValidationResult),
});
export type StepDetail = z.infer<typeof StepDetail>;

export const RunDetail = Run.extend({
  steps: z.array(Step),
  /** base..head of the run branch. Optional on the wire only because an older daemon does not send it. */
  changes: ChangeStats.optional(),
  /** True once an accepted attempt moved the run branch from its base. */
  branchMoved: z.boolean().optional(),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const AttemptDetail = Attempt.extend({
  validationResults: z.array(ValidationResult),
  artifacts: z.array(ArtifactRef),
});
export type AttemptDetail = z.infer<typeof AttemptDetail>;

const STEP_IDS = ['stepId', 'attempts[].attemptId'];

/** Changed paths one `runs.diff` answer lists; the diff artifact has them all. */
export const RUN_DIFF_FILES_MAX = 200;

export const RunDiff = z.object({
  runId: RunId,
  baseCommit: z.string(),
  headCommit: z.string(),
  branchMoved: z.boolean(),
  changes: ChangeStats,
  files: z.array(ChangedPath).max(RUN_DIFF_FILES_MAX),
  /** True when more paths changed than `files` lists. */
  filesTruncated: z.boolean(),
  /** The whole base..head diff as an artifact of the run (read it with artifacts.get); null when nothing changed or it is over the diff limit. */
  diff: ArtifactRef.nullable(),
  /** True when the diff is over the daemon's diff limit and was not stored. */
  diffTooLarge: z.boolean(),
});
export type RunDiff = z.infer<typeof RunDiff>;
const STEP_DETAIL_IDS = [...STEP_IDS, 'gates[].gateId'];

/** The verb table. Everything remote is generated from it; a verb that is not here cannot cross the relay. */
export const VERBS = {
  'instances.list': verb({
    name: 'instances.list',
    title: 'List instances',
    description: 'The operator machines (instances) you may use, whether each is online, and per workspace the executor and validation names you may pass to steps_dispatch. Start here: call it first, then runs_open on one of its workspaces. Read each executor\'s `task` description (in instances_list or workspaces_describe) before writing a task for it.',
    input: z.strictObject({}),
    output: z.object({ instances: z.array(Instance) }),
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'relay' },
    touches: 'nothing on the instance (answered by the relay from connector hellos)',
    owns: [],
  }),
  'workspaces.describe': verb({
    name: 'workspaces.describe',
    title: 'Describe a workspace',
    description:
      'How a shared workspace runs steps: each executor with what its task text must be (plain English for an agent; the simulation executor takes a small language, with an example), its timeouts, whether it can run commands and whether it is ready; each validation with its timeout; the approval policy and the rules for steps and attempts. Call it before the first steps.dispatch on a workspace and write the task the way the executor description says.',
    input: z.strictObject({
      workspaceId: Name.describe('The workspace id, from instances.list.'),
      instanceId: InstanceId.optional().describe('The instance that shares it; needed only when several instances share a workspace of that id.'),
    }),
    output: WorkspaceDescription,
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'instance' },
    touches: 'reads the workspace config; checks that each executor program is on PATH (and its --version where a minimum applies)',
    owns: [],
  }),
  'runs.open': verb({
    name: 'runs.open',
    title: 'Open a run',
    description: 'Open a run: a branch sluice/run/<runId> in a shared workspace, created from baseRef (default HEAD). Every step of the run starts from this branch\'s head, and accepting a step moves it. Call after instances_list; next call steps_dispatch with the returned runId. Nothing is merged into the operator\'s branches: the operator merges the run branch after runs_close.',
    input: z.strictObject({
      workspaceId: arg(Name, 'The shared workspace to work in: a workspaceId from instances_list.'),
      instanceId: arg(InstanceId.optional(), 'The instance that holds the workspace (from instances_list); needed only when several instances share a workspace of that name.'),
      baseRef: arg(GitRef.optional(), 'Branch, tag or commit the run branch starts from: an operator branch or tag, or an accepted run head.', protocolDefault('runs.open', 'baseRef')),
      title: arg(safeText(LIMITS.titleLength).optional(), 'A short title for the run, shown to the operator.'),
    }),
    output: Run,
    scope: 'runs:write',
    hints: { readOnly: false, destructive: false, idempotent: false },
    route: { kind: 'instance' },
    touches: 'creates one branch sluice/run/<id> in a shared workspace',
    owns: ['runId'],
  }),
  'runs.get': verb({
    name: 'runs.get',
    title: 'Get a run',
    description: 'A run with its state, head commit, every step with its attempts, and how far its branch moved from the base (changes: files, insertions, deletions; branchMoved). Call it to see where a run stands (which steps are queued, running, awaiting approval or done); for the diff itself call runs_diff, for one step in detail steps_get, to follow changes events_list.',
    input: z.strictObject({ runId: runIdArg('to read') }),
    output: RunDetail,
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads the ledger',
    owns: ['runId', 'steps[].stepId', 'steps[].attempts[].attemptId'],
  }),
  'runs.list': verb({
    name: 'runs.list',
    title: 'List runs',
    description: 'Runs of an instance, newest first, optionally filtered by workspace and state. Returns nextCursor: pass it as cursor to get the next page (null means the last page). Use it to find a run you opened earlier; then runs_get.',
    input: z.strictObject({
      instanceId: arg(InstanceId.optional(), 'The instance whose runs to list (from instances_list); needed only when the caller may use several.'),
      workspaceId: arg(Name.optional(), 'Only runs of this workspace; all shared workspaces when left out.'),
      state: arg(RunState.optional(), 'Only runs in this state; every state when left out.'),
      limit: arg(z.number().int().min(1).max(LIMITS.pageSize).optional(), 'Most runs to return in this page.', protocolDefault('runs.list', 'limit')),
      cursor: arg(PageCursor.optional(), 'The nextCursor of the previous page; leave out for the first page.'),
    }),
    output: z.object({ runs: z.array(Run), nextCursor: PageCursor.nullable() }),
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'instance' },
    touches: 'reads the ledger (shared workspaces only)',
    owns: ['runs[].runId'],
  }),
  'runs.close': verb({
    name: 'runs.close',
    title: 'Close a run',
    description: 'Finish a run: marks it completed once no step is queued or running and no gate is pending. The run branch stays for the operator to review and merge. Call it last, after the accepted steps; a closed run takes no new steps.',
    input: z.strictObject({ runId: runIdArg('to close') }),
    output: Run,
    scope: 'runs:write',
    hints: { readOnly: false, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'writes the ledger; the run branch is kept',
    owns: ['runId'],
  }),
  'runs.abort': verb({
    name: 'runs.abort',
    title: 'Abort a run',
    description: 'Abort a run: cancels every live attempt (answers once their processes have exited), refuses new steps and leaves the run branch as it is. Use it to give up on a run; to stop only one attempt use attempts_cancel.',
    input: z.strictObject({ runId: runIdArg('to abort'), reason: arg(reason.optional(), 'Why the run is aborted, recorded in the ledger for the operator.') }),
    output: Run,
    scope: 'runs:cancel',
    hints: { readOnly: false, destructive: true, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'signals executor processes of this run; the run branch is kept',
    owns: ['runId'],
  }),
  'steps.dispatch': verb({
    name: 'steps.dispatch',
    title: 'Dispatch a step',
    description:
      'Queue a step on an open run: the named executor gets `task` exactly as written, in a fresh git worktree of the run branch head, and its commits become the attempt\'s result. What a task must look like depends on the executor: see the executor\'s `task` description in workspaces_describe before writing one (the simulation executor acts only on its directives). Steps of one run execute one at a time, in order. Returns the step at once (state queued; replayed: true when the idempotency key named an earlier step, which is answered as it is now; effective: what the workspace policy changed and why); next call steps_wait with its stepId (repeat until settled), then read the result with steps_get or attempts_get. With approval the step ends awaiting_approval and you decide it with gates_approve or gates_reject; the workspace\'s approval policy may require approval even when you ask for none.',
    input: z.strictObject({
      runId: runIdArg('to add the step to; it must be open'),
      executor: arg(Name, 'The executor to run: one of the executor names instances_list gives for the workspace of the run.'),
      task: arg(
        safeText(LIMITS.taskBytes, { min: 1 }),
        "What the executor should do, passed to it as is: for a coding agent plain English, for other executors their own language. See the executor's `task` description in instances_list / workspaces_describe.",
      ),
      validations: arg(
        z.array(Name).max(LIMITS.validationsPerStep).optional(),
        'Validation names (from instances_list) to run on each attempt after the executor; an attempt passes only when all of them pass.',
        protocolDefault('steps.dispatch', 'validations'),
      ),
      approval: arg(
        z.boolean().optional(),
        "Stop at an approval gate before the run branch moves; the workspace's approval policy may require approval anyway, and then wins.",
        protocolDefault('steps.dispatch', 'approval'),
      ),
      timeoutMs: arg(
        z.number().int().min(LIMITS.stepTimeoutMs.min).max(LIMITS.stepTimeoutMs.max).optional(),
        `Most milliseconds the executor may run per attempt (validations have their own timeouts). Left out: the executor's configured timeout, else ${LIMITS.stepTimeoutMs.default} ms.`,
      ),
      attempts: arg(
        z.number().int().min(1).max(LIMITS.attempts).optional(),
        'Parallel attempts of the same task, each in its own worktree; with several that pass you choose one at the approval gate.',
        protocolDefault('steps.dispatch', 'attempts'),
      ),
      idempotencyKey: arg(
        z
          .string()
          .min(1)
          .max(LIMITS.idempotencyKeyLength)
          .regex(/^[A-Za-z0-9._:-]+$/)
          .optional(),
        'A key of your choice that makes retries safe: the same key with the same input returns the step already queued instead of queueing another; with a different input it is IDEMPOTENCY_CONFLICT.',
      ),
    }),
    output: DispatchAnswer,
    scope: 'runs:write',
    hints: { readOnly: false, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'runs a configured executor in a new worktree of a shared workspace',
    owns: STEP_IDS,
    idempotency: { field: 'idempotencyKey', answerField: 'stepId', replayVerb: 'steps.get' },
  }),
  'steps.cancel': verb({
    name: 'steps.cancel',
    title: 'Cancel a step',
    description:
      'Cancel every live attempt of a step (each answers once its process has exited) and return the step as it is now. Cancelling a step with no live attempt changes nothing; call it again safely. Use steps.retry to run it again.',
    input: z.strictObject({
      stepId: StepId.describe('The step, from steps.dispatch or runs.get.'),
      reason: reason.optional().describe('Why, recorded as the decisionReason of each cancelled attempt (never its summary).'),
    }),
    output: Step,
    scope: 'runs:cancel',
    hints: { readOnly: false, destructive: true, idempotent: true },
    route: { kind: 'owner', field: 'stepId' },
    touches: 'signals the executor process groups of one step',
    owns: STEP_IDS,
  }),
  'steps.get': verb({
    name: 'steps.get',
    title: 'Get a step',
    description: 'One step in full: its attempts (state, summary, commits), its gates and the validation results. Call it after steps_wait to read the outcome; for one attempt\'s artifacts call attempts_get.',
    input: z.strictObject({ stepId: stepIdArg('to read') }),
    output: StepDetail,
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'stepId' },
    touches: 'reads the ledger',
    owns: STEP_DETAIL_IDS,
  }),
  'steps.retry': verb({
    name: 'steps.retry',
    title: 'Retry a step',
    description: 'Start new attempts of a failed, cancelled or interrupted step with the same executor, task and validations, from the current run branch head. To change the task, dispatch a new step instead. Next call steps_wait.',
    input: z.strictObject({ stepId: stepIdArg('to retry; it must be failed, cancelled or interrupted') }),
    output: Step,
    scope: 'runs:write',
    hints: { readOnly: false, destructive: false, idempotent: false },
    route: { kind: 'owner', field: 'stepId' },
    touches: 'runs the step executor again in a new worktree',
    owns: STEP_IDS,
  }),
  'steps.wait': verb({
    name: 'steps.wait',
    title: 'Wait for a step',
    description: 'Wait up to timeoutMs (at most 30 s) until the step settles (succeeded, failed, cancelled or awaiting approval) and return it with `settled`. When settled is false the step is still queued or running: call steps_wait again. When it is awaiting_approval, decide its gate (gates_list, gates_approve or gates_reject).',
    input: z.strictObject({
      stepId: stepIdArg('to wait for'),
      timeoutMs: arg(z.number().int().min(0).max(LIMITS.waitMs).optional(), 'Most milliseconds to wait before answering with settled: false; 0 answers at once.', LIMITS.waitMs),
    }),
    output: StepDetail.extend({ settled: z.boolean() }),
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'stepId' },
    touches: 'reads the ledger',
    owns: STEP_DETAIL_IDS,
    wait: { field: 'timeoutMs', defaultMs: LIMITS.waitMs },
  }),
  'runs.diff': verb({
    name: 'runs.diff',
    title: 'Diff a run',
    description:
      'What the operator would merge: base..head of the run branch as a diffstat (changes, files) and the whole diff as an artifact ref to read with artifacts.get. Call it after approving a step, or before closing the run.',
    input: z.strictObject({ runId: RunId.describe('The run, from runs.open.') }),
    output: RunDiff,
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads the run branch; stores its diff as an artifact of the run',
    owns: [],
  }),
  'attempts.get': verb({
    name: 'attempts.get',
    title: 'Get an attempt',
    description: 'One attempt with its validation results and artifact refs (logs, diffs, test output). Call it after steps_get to look at one attempt; then artifacts_get with the run id and a ref\'s digest for the content.',
    input: z.strictObject({ attemptId: attemptIdArg('to read') }),
    output: AttemptDetail,
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'attemptId' },
    touches: 'reads the ledger',
    owns: ['attemptId'],
  }),
  'attempts.cancel': verb({
    name: 'attempts.cancel',
    title: 'Cancel an attempt',
    description: 'Cancel one live attempt: SIGTERM to its process group, SIGKILL after the grace period; answers once the exit is observed. Cancelling a finished attempt says so (alreadyFinished) and changes nothing. To stop a whole run call runs_abort instead.',
    input: z.strictObject({
      attemptId: attemptIdArg('to cancel'),
      reason: arg(reason.optional(), 'Why it is cancelled, recorded in the ledger for the operator.'),
    }),
    output: z.object({ attempt: Attempt, alreadyFinished: z.boolean() }),
    scope: 'runs:cancel',
    hints: { readOnly: false, destructive: true, idempotent: true },
    route: { kind: 'owner', field: 'attemptId' },
    touches: 'signals one executor process group',
    owns: ['attempt.attemptId'],
  }),
  'gates.list': verb({
    name: 'gates.list',
    title: 'List gates',
    description: 'Gates of a run: approval gates a step waits at, with the candidate attempts that may be accepted. Call it when a step is awaiting_approval; then gates_approve (naming an attempt when there are several candidates) or gates_reject.',
    input: z.strictObject({
      runId: runIdArg('whose gates to list'),
      status: arg(z.enum(['pending', 'decided', 'all']).optional(), 'Which gates: pending (waiting for a decision), decided, or all.', protocolDefault('gates.list', 'status')),
    }),
    output: z.object({ gates: z.array(Gate) }),
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads the ledger',
    owns: ['gates[].gateId', 'gates[].candidates[]'],
  }),
  'gates.approve': verb({
    name: 'gates.approve',
    title: 'Approve a gate',
    description: 'Approve a pending approval gate: the run branch fast-forwards to the accepted attempt\'s commits. When several attempts passed, name the one to accept with attemptId (the error lists the candidates). The workspace may allow decisions from local operators only (REMOTE_APPROVAL_DISABLED). Next dispatch the following step or runs_close.',
    input: z.strictObject({
      gateId: gateIdArg('to approve'),
      attemptId: arg(AttemptId.optional(), "The candidate attempt to accept; required when more than one passed (the gate's candidates)."),
      reason: arg(reason.optional(), 'Why it is approved, recorded with the decision.'),
    }),
    output: Gate,
    scope: 'gates:decide',
    hints: { readOnly: false, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'gateId' },
    touches: 'moves branch sluice/run/<id> (compare-and-swap)',
    owns: ['gateId'],
  }),
  'gates.reject': verb({
    name: 'gates.reject',
    title: 'Reject a gate',
    description: 'Reject a pending approval gate with a reason: the run branch does not move and the step ends failed. Next dispatch a corrected step (or steps_retry).',
    input: z.strictObject({
      gateId: gateIdArg('to reject'),
      reason: arg(safeText(LIMITS.reasonLength, { min: 1 }), 'Why it is rejected, recorded with the decision for the operator and for a later attempt.'),
    }),
    output: Gate,
    scope: 'gates:decide',
    hints: { readOnly: false, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'gateId' },
    touches: 'writes the ledger',
    owns: ['gateId'],
  }),
  'artifacts.list': verb({
    name: 'artifacts.list',
    title: 'List artifacts',
    description: 'Artifact refs (digest, kind, name, media type, size) of a run, optionally narrowed to one step or attempt: logs, diffs, validation output. Next call artifacts_get with a digest to read one.',
    input: z.strictObject({
      runId: runIdArg('whose artifacts to list'),
      stepId: arg(StepId.optional(), 'Only artifacts of this step of the run.'),
      attemptId: arg(AttemptId.optional(), 'Only artifacts of this attempt of the run.'),
    }),
    output: z.object({ artifacts: z.array(ArtifactRef) }),
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads the ledger',
    owns: [],
  }),
  'artifacts.get': verb({
    name: 'artifacts.get',
    title: 'Read an artifact',
    description: 'Read an artifact of a run by digest, at most 1 MiB per call from offset. Text comes back as utf8, anything else as base64; when eof is false call again with offset + length. Use it to read a diff or a test log named by artifacts_list or attempts_get.',
    input: z.strictObject({
      runId: runIdArg('the artifact belongs to'),
      digest: arg(Digest, 'The artifact digest (sha256:...) from artifacts_list or attempts_get.'),
      offset: arg(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(), 'Byte offset to read from.', protocolDefault('artifacts.get', 'offset')),
      length: arg(z.number().int().min(1).max(LIMITS.artifactChunkBytes).optional(), 'Most bytes to read.', LIMITS.artifactChunkBytes),
    }),
    output: z.object({
      digest: Digest,
      size: z.number().int().min(0),
      mediaType: z.string(),
      offset: z.number().int().min(0),
      length: z.number().int().min(0),
      encoding: z.enum(['utf8', 'base64']),
      content: z.string(),
      eof: z.boolean(),
    }),
    scope: 'artifacts:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads recorded artifacts of that run only (never a path)',
    owns: [],
  }),
  'events.list': verb({
    name: 'events.list',
    title: 'List events',
    description: 'Events of a run (step and attempt state changes, gates, validation results) after a cursor, oldest first; with waitMs (at most 30 s) it waits until one arrives. Pass the returned nextCursor as `after` on the next call to follow the run. The cursor counts across the whole ledger, so use only values this verb returned.',
    input: z.strictObject({
      runId: runIdArg('to follow'),
      after: arg(Cursor.optional(), 'Return events after this cursor: the nextCursor of the previous call (a ledger-wide counter, not a count of this run); leave out to start from the first event.', protocolDefault('events.list', 'after')),
      limit: arg(z.number().int().min(1).max(LIMITS.eventsPageSize).optional(), 'Most events to return.', protocolDefault('events.list', 'limit')),
      waitMs: arg(z.number().int().min(0).max(LIMITS.waitMs).optional(), 'When no event is newer than `after`, wait up to this many milliseconds for one.', 0),
    }),
    output: z.object({ events: z.array(Event), nextCursor: Cursor }),
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads the ledger',
    owns: ['events[].stepId', 'events[].attemptId', 'events[].data.gateId'],
    wait: { field: 'waitMs', defaultMs: 0 },
  }),
} as const;

export type VerbName = keyof typeof VERBS;
export const VERB_NAMES = Object.keys(VERBS) as VerbName[];
export type VerbInput<V extends VerbName> = z.infer<(typeof VERBS)[V]['input']>;
export type VerbOutput<V extends VerbName> = z.infer<(typeof VERBS)[V]['output']>;

/** True when the name is a verb of the table (own keys only: `__proto__` and friends are not verbs). */
export function isVerbName(name: string): name is VerbName {
  return Object.prototype.hasOwnProperty.call(VERBS, name);
}

/** The spec of a verb, or undefined. */
export function getVerb(name: string): VerbSpec | undefined {
  return isVerbName(name) ? (VERBS[name] as VerbSpec) : undefined;
}

/** The verb for an MCP tool name, or undefined. */
export function verbForTool(toolName: string): VerbSpec | undefined {
  return Object.values(VERBS).find((v) => v.mcpName === toolName) as VerbSpec | undefined;
}

/** The strings found at one `owns` path of a value (`[]` walks an array); anything else is skipped. */
export function stringsAt(value: unknown, path: string): string[] {
  let here: unknown[] = [value];
  for (const segment of path.split('.')) {
    const list = segment.endsWith('[]');
    const key = list ? segment.slice(0, -2) : segment;
    here = here.flatMap((v) => {
      const next = key === '' ? v : v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
      return list ? (Array.isArray(next) ? next : []) : [next];
    });
  }
  return here.filter((v): v is string => typeof v === 'string');
}

/** The ids an answer of the verb says its instance owns, from the fields the table names. */
export function ownedIdsOf(spec: VerbSpec, output: unknown): string[] {
  return [...new Set(spec.owns.flatMap((path) => stringsAt(output, path)))];
}
