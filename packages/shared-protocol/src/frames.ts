import * as z from 'zod';
import { ErrorBody } from './errors.js';
import { Actor } from './actors.js';
import { InstanceId } from './ids.js';
import { LIMITS } from './limits.js';
import { WorkspaceSummary } from './model.js';

/**
 * The relay↔connector protocol version: a date, negotiated in the hello frame. `2026-12-01` types event payloads
 * and attempt failure codes (readers keep unknown ones); its frames are those of `2026-11-23`, which is still spoken.
 */
export const PROTOCOL_VERSION = '2026-12-01';
/** Versions this build can speak, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [PROTOCOL_VERSION, '2026-11-23'];

const ProtocolVersion = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const FrameId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
export const Nonce = z.string().regex(/^[A-Za-z0-9_-]{32,128}$/);
/** An Ed25519 signature, base64url. */
export const Ed25519Signature = z.string().regex(/^[A-Za-z0-9_-]{86}$/);

/** Relay → connector: the nonce to sign. Served over HTTPS before the websocket upgrade. */
export const ChallengeFrame = z.strictObject({
  type: z.literal('challenge'),
  nonce: Nonce,
  relayOrigin: z.string().url(),
  serverTime: z.number().int(),
  expiresAt: z.number().int(),
});

/** Connector → relay: the signed challenge, presented with the upgrade request before it completes. */
export const AuthFrame = z.strictObject({
  type: z.literal('auth'),
  instanceId: InstanceId,
  nonce: Nonce,
  timestamp: z.number().int(),
  /** Ed25519 signature over `authSigningPayload(...)`, base64url. */
  signature: Ed25519Signature,
});

/** A connector's build as its hello reports it: null where it does not know (a clone has no manifest). */
export const ConnectorBuild = z.strictObject({
  commit: z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/).nullable(),
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
});
export type ConnectorBuild = z.infer<typeof ConnectorBuild>;

/** Connector → relay: what this instance offers. Sent first after the upgrade and again when shares change. */
export const HelloFrame = z.strictObject({
  type: z.literal('hello'),
  protocolVersion: ProtocolVersion,
  connectorVersion: z.string().max(64),
  /**
   * What the connector runs (its git commit and the hash of its installed MANIFEST.sha256). Accepted and shown to
   * admins; connectors do not send it yet, because a 0.1.0 relay refuses unknown hello keys before it checks the
   * protocol version, and would then answer INVALID_INPUT instead of UNSUPPORTED_PROTOCOL_VERSION.
   */
  connectorBuild: ConnectorBuild.optional(),
  name: z.string().max(200).optional(),
  workspaces: z.array(WorkspaceSummary).max(256),
});

/** Relay → connector: the hello was accepted. */
export const WelcomeFrame = z.strictObject({
  type: z.literal('welcome'),
  protocolVersion: ProtocolVersion,
  instanceId: InstanceId,
  heartbeatMs: z.number().int().min(1000).max(300_000),
});

/** Relay → connector: one verb call on behalf of a planner. */
export const RequestFrame = z.strictObject({
  type: z.literal('request'),
  id: FrameId,
  verb: z.string().max(64),
  input: z.unknown(),
  actor: Actor,
  deadlineMs: z.number().int().min(1).max(LIMITS.frameDeadlineMs),
});

/** Connector → relay: the answer to one request. */
export const ResponseFrame = z
  .strictObject({
    type: z.literal('response'),
    id: FrameId,
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: ErrorBody.optional(),
  })
  .refine((f) => (f.ok ? f.error === undefined : f.error !== undefined && f.output === undefined), {
    message: 'an ok response carries output; a failed one carries error and no output',
  });

export const PingFrame = z.strictObject({ type: z.literal('ping'), ts: z.number().int() });
export const PongFrame = z.strictObject({ type: z.literal('pong'), ts: z.number().int() });

/** Either side: a clean close, with why. */
export const GoodbyeFrame = z.strictObject({
  type: z.literal('goodbye'),
  reason: z.string().max(500),
  code: z.string().max(64).optional(),
});

/** Either side: a protocol-level error. `fatal` means the sender closes the socket next. */
export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  code: z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/),
  message: z.string().max(4000),
  fatal: z.boolean(),
  id: FrameId.optional(),
});

export const Frame = z.discriminatedUnion('type', [
  ChallengeFrame,
  AuthFrame,
  HelloFrame,
  WelcomeFrame,
  RequestFrame,
  ResponseFrame,
  PingFrame,
  PongFrame,
  GoodbyeFrame,
  ErrorFrame,
]);
export type Frame = z.infer<typeof Frame>;
export type ChallengeFrame = z.infer<typeof ChallengeFrame>;
export type AuthFrame = z.infer<typeof AuthFrame>;
export type HelloFrame = z.infer<typeof HelloFrame>;
export type WelcomeFrame = z.infer<typeof WelcomeFrame>;
export type RequestFrame = z.infer<typeof RequestFrame>;
export type ResponseFrame = z.infer<typeof ResponseFrame>;
export type GoodbyeFrame = z.infer<typeof GoodbyeFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type FrameType = Frame['type'];

export type ParseFrameResult = { ok: true; frame: Frame } | { ok: false; code: 'MALFORMED_JSON' | 'INVALID_INPUT' | 'PAYLOAD_TOO_LARGE'; message: string };

/** Parse one serialized frame, bounded in size; never throws. */
export function parseFrame(raw: string | Buffer): ParseFrameResult {
  const size = typeof raw === 'string' ? raw.length : raw.byteLength;
  if (size > LIMITS.frameBytes) return { ok: false, code: 'PAYLOAD_TOO_LARGE', message: `frame exceeds ${LIMITS.frameBytes} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, code: 'MALFORMED_JSON', message: 'frame is not valid JSON' };
  }
  const parsed = Frame.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, code: 'INVALID_INPUT', message: `frame is not valid: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'unknown'}` };
  }
  return { ok: true, frame: parsed.data };
}

/** Negotiate the version a hello asks for; undefined when this build cannot speak it. */
export function negotiateProtocolVersion(requested: string): string | undefined {
  return SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : undefined;
}

/**
 * The exact bytes a connector signs to answer a challenge. Binding the relay origin stops a signature made for one
 * relay being replayed at another; the timestamp bounds clock skew.
 */
export function authSigningPayload(p: { nonce: string; instanceId: string; relayOrigin: string; timestamp: number }): string {
  return ['sluice-connector-auth/v1', p.nonce, p.instanceId, p.relayOrigin, String(p.timestamp)].join('\n');
}
