import * as z from 'zod';
import { Actor } from './actors.js';
import { ArtifactId, AttemptId, Digest, GateId, Name, RunId, StepId } from './ids.js';
import { FailureCodeOnWire } from './failures.js';
import { Timestamp } from './model.js';

const Commit = z.string();
const Transition = { from: z.string(), to: z.string() };

/**
 * The payload of each event type the daemon writes, with one line on when. Payloads are loose objects: a newer
 * daemon may add a field, which a reader keeps.
 */
export const EVENT_PAYLOADS = {
  'run.opened': {
    when: 'a run was opened',
    data: z.looseObject({ workspaceId: Name, baseRef: z.string(), baseCommit: Commit, branch: z.string() }),
  },
  'run.head_moved': { when: 'the run branch moved to an accepted attempt', data: z.looseObject({ from: Commit, to: Commit }) },
  'run.closed': { when: 'the run was completed', data: z.looseObject(Transition) },
  'run.aborted': { when: 'the run was aborted', data: z.looseObject({ ...Transition, reason: z.string().nullable().optional() }) },
  'step.queued': {
    when: 'a step was dispatched',
    data: z.looseObject({ seq: z.number().int(), executor: Name, attempts: z.number().int(), validations: z.array(Name), approvalRequired: z.boolean() }),
  },
  'step.state_changed': { when: 'a step changed state', data: z.looseObject({ ...Transition, acceptedAttemptId: AttemptId.optional() }) },
  'attempt.created': { when: 'an attempt was created', data: z.looseObject({ number: z.number().int(), baseCommit: Commit }) },
  'attempt.state_changed': {
    when: 'an attempt changed state',
    data: z.looseObject({ ...Transition, failureCode: FailureCodeOnWire.optional(), exitCode: z.number().int().optional(), commit: Commit.optional() }),
  },
  'attempt.log': {
    when: 'output lines of the executor, batched',
    data: z.looseObject({
      lines: z.array(z.looseObject({ stream: z.enum(['stdout', 'stderr', 'sluice']), text: z.string() })),
      /** The first lines continue a private key block begun in the previous batch (remote reads withhold them). */
      continuesKeyBlock: z.literal(true).optional(),
    }),
  },
  'attempt.denied': {
    when: "the agent's CLI refused actions under the executor's policy",
    data: z.looseObject({ count: z.number().int(), actions: z.array(z.string()) }),
  },
  'attempt.sandbox': {
    when: 'a child of the attempt (executor, validation, setup) started, confined or not (`"sandbox": "off"`)',
    data: z.looseObject({ child: z.string(), mode: z.enum(['bwrap', 'off']), hosts: z.array(z.string()).optional(), limits: z.string().optional() }),
  },
  'attempt.network_denied': {
    when: "the sandbox's egress proxy refused a connection of a child of the attempt",
    data: z.looseObject({ host: z.string(), port: z.number().int(), reason: z.string() }),
  },
  'attempt.flagged': {
    when: 'the attempt changed a file that alters how git shows the diff (`.gitattributes`)',
    data: z.looseObject({ attributesChanged: z.literal(true), paths: z.array(z.string()) }),
  },
  'attempt.secret_detected': {
    when: 'an artifact, log event or summary of the attempt matched a credential shape; remote reads withhold it (never the secret itself)',
    data: z.looseObject({ subject: z.enum(['artifact', 'event', 'summary']), subjectId: z.string(), rules: z.array(z.string()), name: z.string().optional() }),
  },
  'attempt.secret_released': {
    when: 'the local operator released a withheld artifact for remote reads',
    data: z.looseObject({ subject: z.enum(['artifact', 'event', 'summary']), subjectId: z.string(), rules: z.array(z.string()) }),
  },
  'validation.recorded': {
    when: 'a validation of an attempt finished',
    data: z.looseObject({ name: Name, passed: z.boolean(), exitCode: z.number().int().nullable(), timedOut: z.boolean() }),
  },
  'gate.created': {
    when: 'a validation or approval gate was created',
    data: z.looseObject({
      gateId: GateId,
      kind: z.string(),
      status: z.string(),
      rule: z.string(),
      candidates: z.array(AttemptId),
      baseRef: z.string(),
      baseCommit: Commit,
      attributesChangedBy: z.array(z.string()).optional(),
    }),
  },
  'gate.decided': {
    when: 'a gate was approved, rejected or cancelled',
    data: z.looseObject({ gateId: GateId, status: z.string(), acceptedAttemptId: AttemptId.nullable() }),
  },
  'artifact.recorded': {
    when: 'an artifact was stored',
    data: z.looseObject({ artifactId: ArtifactId, digest: Digest, kind: z.string(), name: z.string(), size: z.number().int().min(0) }),
  },
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;
export const EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_PAYLOADS)[T]['data']>;

/** The shape every event type has: dotted lowercase. */
export const EVENT_TYPE_PATTERN = /^[a-z]+(\.[a-z_]+)+$/;

/** True when the type is one this version writes. */
export function isKnownEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_PAYLOADS, type);
}

/**
 * An event cursor: a non-negative integer, opaque to planners. `events.list` counts positions within the run (so a
 * cursor says nothing about other runs); the daemon's operator feed counts the global log.
 */
export const Cursor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const envelope = {
  cursor: Cursor,
  runId: RunId,
  stepId: StepId.nullable(),
  attemptId: AttemptId.nullable(),
  actor: Actor,
  at: Timestamp,
};

function knownVariant<T extends EventType>(type: T) {
  return z.object({ ...envelope, type: z.literal(type), data: EVENT_PAYLOADS[type].data });
}

const KNOWN_VARIANTS = EVENT_TYPES.map((t) => knownVariant(t));

/** An event of a type this version knows: its payload is checked. */
export const KnownEvent = z.discriminatedUnion('type', KNOWN_VARIANTS as unknown as [ReturnType<typeof knownVariant<EventType>>, ...ReturnType<typeof knownVariant<EventType>>[]]);

/**
 * Any other event: a type this version does not know (a newer daemon's), or a known type whose payload differs (an
 * older daemon's, e.g. a 0.1.0 `gate.created` without `baseRef`). Kept and shown as it is, never refused.
 */
export const OtherEvent = z.object({ ...envelope, type: z.string().regex(EVENT_TYPE_PATTERN), data: z.record(z.string(), z.unknown()) });

/** The reader's schema of an event: a known type with its payload checked, or any other event passed through. */
export const Event = z.union([KnownEvent, OtherEvent]);
export type Event = z.infer<typeof Event>;

/** The event types as Markdown; docs/DATABASE.md must contain exactly this. */
export function renderEventTableMarkdown(): string {
  const rows = EVENT_TYPES.map((t) => `| \`${t}\` | ${EVENT_PAYLOADS[t].when} | ${fieldList(EVENT_PAYLOADS[t].data)} |`);
  return ['| type | when | data |', '|---|---|---|', ...rows].join('\n');
}

function fieldList(schema: z.ZodObject): string {
  return Object.entries(schema.shape)
    .map(([k, v]) => `\`${k}\`${(v as z.ZodType).safeParse(undefined).success ? '?' : ''}`)
    .join(', ');
}
