import * as z from 'zod';
import { Ed25519Signature, Nonce } from './frames.js';
import { InstanceId } from './ids.js';
import { WorkspaceSummary } from './model.js';
import { safeName } from './text.js';
import { Registration, ShareEntry } from './shares.js';

/** Websocket close codes the relay uses, so the connector can tell "stop" from "reconnect". */
export const CLOSE_CODES = {
  /** Normal close (goodbye). */
  normal: 1000,
  /** Relay shutting down or restarting: reconnect. */
  goingAway: 1001,
  /** A protocol error: reconnect after backoff. */
  protocolError: 4000,
  /** The instance was revoked: stop, enroll again. */
  revoked: 4001,
  /** A newer session of the same instance took over: stop this one. */
  replaced: 4002,
  /** The instance was disabled by an admin: stop until re-enabled. */
  disabled: 4003,
  /** The hello asked for a protocol version the relay does not speak: stop, upgrade. */
  unsupportedVersion: 4004,
  /** Heartbeats were missed: reconnect. */
  heartbeatTimeout: 4005,
} as const;

/** `POST /ws/connectors/enroll`: trade a single-use enrollment token and a public key for an instance id. */
export const EnrollRequest = z.strictObject({
  token: z.string().min(1).max(200),
  /** Raw Ed25519 public key (32 bytes), base64url: the JWK `x` value. */
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  name: safeName(200),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollResponse = z.object({
  instanceId: InstanceId,
  orgId: z.string(),
  relayOrigin: z.string().url(),
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/**
 * `POST /ws/connectors/rotate-key`: replace an instance's public key. Both keys sign
 * `rotateKeySigningPayload(...)` over a fresh challenge nonce: the old one proves the caller is the instance, the new
 * one that the caller holds the key it installs.
 */
export const RotateKeyRequest = z.strictObject({
  instanceId: InstanceId,
  nonce: Nonce,
  timestamp: z.number().int(),
  /** Raw Ed25519 public key (32 bytes), base64url: the JWK `x` value. */
  newPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  signature: Ed25519Signature,
  newKeySignature: Ed25519Signature,
});
export type RotateKeyRequest = z.infer<typeof RotateKeyRequest>;

/** What both keys sign to rotate: distinct from the upgrade payload, so neither signature can stand for the other. */
export function rotateKeySigningPayload(p: { nonce: string; instanceId: string; relayOrigin: string; timestamp: number; newPublicKey: string }): string {
  return ['sluice-connector-rotate-key/v1', p.nonce, p.instanceId, p.relayOrigin, String(p.timestamp), p.newPublicKey].join('\n');
}

/** `GET /api/v1/workspaces` on the daemon: what it serves, as planners may see it (no paths). */
export const DaemonWorkspaceList = z.object({
  workspaces: z.array(WorkspaceSummary.extend({ /** Local callers only: what a share ties itself to. */ registration: Registration.nullable().optional() })),
});
export type DaemonWorkspaceList = z.infer<typeof DaemonWorkspaceList>;

/**
 * The daemon's Unix socket, a file in its mode-700 `SLUICE_HOME`. Clients that hold the daemon token (the connector,
 * the `sluice` CLI) send it only there: no other account can create a file in that folder, so whatever answers on
 * the socket is the daemon, while a TCP port can be taken by anyone once the daemon is down.
 */
export const DAEMON_SOCKET_FILE = 'daemon.sock';

/** Daemon routes outside the verb table that the connector may call. */
export const DAEMON_PATHS = {
  healthz: '/healthz',
  workspaces: '/api/v1/workspaces',
  connectorReport: '/api/v1/connector/report',
} as const;

/**
 * What the connector tells the daemon of itself whenever its state changes, for the operator console: the daemon
 * never reads the connector's config (it holds the connector's private key).
 */
export const ConnectorReport = z.strictObject({
  instanceId: InstanceId,
  relay: z.string().url().max(2048),
  connected: z.boolean(),
  since: z.string().datetime({ offset: true }).nullable(),
  /** The share entries of its config (`workspace` or `workspace@registration`). */
  shares: z.array(ShareEntry).max(256),
  lastError: z.strictObject({ code: z.string().max(100), message: z.string().max(2000), at: z.string().datetime({ offset: true }) }).nullable(),
  nextRetryAt: z.string().datetime({ offset: true }).nullable(),
  stoppedAt: z.string().datetime({ offset: true }).nullable(),
  updatedAt: z.string().datetime({ offset: true }),
});
export type ConnectorReport = z.infer<typeof ConnectorReport>;
