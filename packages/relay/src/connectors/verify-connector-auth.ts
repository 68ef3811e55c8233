import { createPublicKey, verify } from 'node:crypto';
import { AuthFrame, authSigningPayload, SluiceError } from '@sluice/shared-protocol';
import type { InstanceRecord, RelayStore } from '../store/relay-store.js';
import type { ChallengeBook } from './challenge-book.js';

/** What a refused upgrade knows, for its audit row. */
export interface ConnectorAuthFailure {
  error: SluiceError;
  instanceId: string | null;
  orgId: string | null;
}

/**
 * Check the `x-sluice-connector-auth` header of an upgrade request. Runs before the upgrade completes, so a
 * socket that fails here never exists.
 */
export function verifyConnectorAuth(
  header: string | undefined,
  deps: { store: RelayStore; challenges: ChallengeBook; relayOrigin: string; clockSkewMs: number; now: number },
): { ok: true; instance: InstanceRecord } | ({ ok: false } & ConnectorAuthFailure) {
  const refuse = (code: ConstructorParameters<typeof SluiceError>[0], instanceId: string | null = null, orgId: string | null = null) =>
    ({ ok: false, error: new SluiceError(code), instanceId, orgId }) as const;
  if (!header || header.length > 2048) return refuse('AUTH_FAILED');
  let frame: AuthFrame;
  try {
    const parsed = AuthFrame.safeParse(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
    if (!parsed.success) return refuse('AUTH_FAILED');
    frame = parsed.data;
  } catch {
    return refuse('AUTH_FAILED');
  }
  const nonce = deps.challenges.consume(frame.nonce, frame.instanceId);
  if (nonce === 'used' || nonce === 'expired') return refuse('SIGNATURE_REPLAYED', frame.instanceId);
  if (nonce !== 'ok') return refuse('AUTH_FAILED', frame.instanceId);
  if (Math.abs(frame.timestamp - deps.now) > deps.clockSkewMs) return refuse('CLOCK_SKEW', frame.instanceId);
  const instance = deps.store.getInstance(frame.instanceId);
  if (!instance) return refuse('INSTANCE_NOT_FOUND', frame.instanceId);
  if (instance.state === 'revoked' || instance.publicKey === null) return refuse('INSTANCE_REVOKED', instance.id, instance.orgId);
  if (instance.state === 'disabled') return refuse('INSTANCE_DISABLED', instance.id, instance.orgId);
  const payload = authSigningPayload({ nonce: frame.nonce, instanceId: frame.instanceId, relayOrigin: deps.relayOrigin, timestamp: frame.timestamp });
  let good = false;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: instance.publicKey }, format: 'jwk' });
    good = verify(null, Buffer.from(payload, 'utf8'), key, Buffer.from(frame.signature, 'base64url'));
  } catch {
    good = false;
  }
  if (!good) return refuse('AUTH_FAILED', instance.id, instance.orgId);
  return { ok: true, instance };
}
