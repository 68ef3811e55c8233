import * as z from 'zod';
import { AttemptId, Digest, GateId, GitRef, InstanceId, Name, RunId, StepId } from './ids.js';
import { LIMITS } from './limits.js';
import { ArtifactRef, Attempt, Cursor, Event, Gate, Instance, PageCursor, Run, RunState, Step, ValidationResult } from './model.js';
import type { Scope } from './scopes.js';
import { safeText } from './text.js';

/**
 * How the relay finds the instance that serves a request: answered by the relay itself, by the instance the
 * caller names (or the only one that fits), or by the instance that owns the id in the named input field.
 */
export type VerbRoute =
  | { kind: 'relay' }
  | { kind: 'instance' }
  | { kind: 'owner'; field: 'runId' | 'stepId' | 'attemptId' | 'gateId' };

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

export const RunDetail = Run.extend({ steps: z.array(Step) });
export type RunDetail = z.infer<typeof RunDetail>;

export const AttemptDetail = Attempt.extend({
  validationResults: z.array(ValidationResult),
  artifacts: z.array(ArtifactRef),
});
export type AttemptDetail = z.infer<typeof AttemptDetail>;

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
  }),
  'runs.get': verb({
    name: 'runs.get',
    title: 'Get a run',
    description: 'A run with its steps and their latest attempts.',
    input: z.strictObject({ runId: RunId }),
    output: RunDetail,
    scope: 'runs:read',
    hints: { readOnly: true, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'reads the ledger',
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
  }),
  'steps.dispatch': verb({
    name: 'steps.dispatch',
    title: 'Dispatch a step',
    description:
      'Queue a step on an open run: an executor name from the workspace config, the task text, validation names, whether approval is wanted, a timeout, 1-4 parallel attempts and an idempotency key.',
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
    output: Step,
    scope: 'runs:write',
    hints: { readOnly: false, destructive: false, idempotent: true },
    route: { kind: 'owner', field: 'runId' },
    touches: 'runs a configured executor in a new worktree of a shared workspace',
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
