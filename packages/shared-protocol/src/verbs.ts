import * as z from 'zod';
import { AttemptId, Digest, GateId, GitRef, InstanceId, Name, RunId, StepId } from './ids.js';
import { LIMITS } from './limits.js';
import { Cursor, Event } from './events.js';
import { ArtifactRef, Attempt, ChangedPath, ChangeStats, DispatchAnswer, Gate, Instance, PageCursor, Run, RunState, Step, ValidationResult, WorkspaceDescription } from './model.js';
import type { ErrorCode } from './errors.js';
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
    description: "Connected and known instances of the caller's org, with their shared workspaces, executor and validation names.",
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
    description: 'Open a run on a shared workspace; creates branch sluice/run/<runId> from the base ref (default HEAD).',
    input: z.strictObject({
      workspaceId: Name,
      instanceId: InstanceId.optional(),
      baseRef: GitRef.optional(),
      title: safeText(LIMITS.titleLength).optional(),
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
    description: 'A run with its steps and their latest attempts, and how far its branch moved from the base (changes: files, insertions, deletions; branchMoved). runs.diff gives the diff itself.',
    input: z.strictObject({ runId: RunId }),
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
    description: 'Runs of an instance, newest first, filtered by workspace and state, paginated.',
    input: z.strictObject({
      instanceId: InstanceId.optional(),
      workspaceId: Name.optional(),
      state: RunState.optional(),
      limit: z.number().int().min(1).max(LIMITS.pageSize).optional(),
      cursor: PageCursor.optional(),
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
    description: 'Mark a run completed once no step is queued or running; its run branch stays for the operator to merge.',
    input: z.strictObject({ runId: RunId }),
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
    description: 'Abort a run: cancel every live attempt (reported only after the processes exit) and refuse new steps.',
    input: z.strictObject({ runId: RunId, reason: reason.optional() }),
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
      'Queue a step on an open run. The task text goes to the named executor as it is: read workspaces.describe first for what each executor takes (the simulation executor acts only on its directives). Steps of a run execute one at a time, in order. Answers the step (replayed: true when the idempotency key named an earlier one; effective: what the workspace policy changed). Follow it with steps.wait.',
    input: z.strictObject({
      runId: RunId,
      executor: Name,
      task: safeText(LIMITS.taskBytes, { min: 1 }),
      validations: z.array(Name).max(LIMITS.validationsPerStep).optional(),
      approval: z.boolean().optional(),
      timeoutMs: z.number().int().min(LIMITS.stepTimeoutMs.min).max(LIMITS.stepTimeoutMs.max).optional(),
      attempts: z.number().int().min(1).max(LIMITS.attempts).optional(),
      idempotencyKey: z
        .string()
        .min(1)
        .max(LIMITS.idempotencyKeyLength)
        .regex(/^[A-Za-z0-9._:-]+$/)
        .optional(),
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
    description: 'A step with its attempts, gates and validation results.',
    input: z.strictObject({ stepId: StepId }),
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
    description: 'Start new attempts of a failed, cancelled or interrupted step, from the current run branch head.',
    input: z.strictObject({ stepId: StepId }),
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
    description: 'Wait up to timeoutMs (at most 30 s) until the step settles (succeeded, failed, cancelled or awaiting approval) and return it.',
    input: z.strictObject({ stepId: StepId, timeoutMs: z.number().int().min(0).max(LIMITS.waitMs).optional() }),
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
    description: 'One attempt with its validation results and artifact refs.',
    input: z.strictObject({ attemptId: AttemptId }),
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
    description: 'Cancel a live attempt: SIGTERM to its process group, SIGKILL after the grace period; answers once the exit is observed. Cancelling a finished attempt says so and changes nothing.',
    input: z.strictObject({ attemptId: AttemptId, reason: reason.optional() }),
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
    description: 'Gates of a run: pending, decided or all.',
    input: z.strictObject({ runId: RunId, status: z.enum(['pending', 'decided', 'all']).optional() }),
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
    description: 'Approve a pending approval gate, naming the attempt to accept when several passed; the run branch fast-forwards to it.',
    input: z.strictObject({ gateId: GateId, attemptId: AttemptId.optional(), reason: reason.optional() }),
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
    description: 'Reject a pending approval gate with a reason; the run branch does not move.',
    input: z.strictObject({ gateId: GateId, reason: safeText(LIMITS.reasonLength, { min: 1 }) }),
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
    description: 'Artifact refs (digest, kind, name, media type, size) of a run, optionally of one step or attempt.',
    input: z.strictObject({ runId: RunId, stepId: StepId.optional(), attemptId: AttemptId.optional() }),
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
    description: 'Bounded read of an artifact of a run by digest: at most 1 MiB per call at an offset; returns the digest of the whole artifact to check.',
    input: z.strictObject({
      runId: RunId,
      digest: Digest,
      offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      length: z.number().int().min(1).max(LIMITS.artifactChunkBytes).optional(),
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
    description: 'Events of a run after a cursor; with waitMs (at most 30 s) it waits until one arrives. Returns {events, nextCursor}: the way to follow a run.',
    input: z.strictObject({
      runId: RunId,
      after: Cursor.optional(),
      limit: z.number().int().min(1).max(LIMITS.eventsPageSize).optional(),
      waitMs: z.number().int().min(0).max(LIMITS.waitMs).optional(),
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
