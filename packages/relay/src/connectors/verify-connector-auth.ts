import { createPublicKey, verify } from 'node:crypto';
import { AuthFrame, authSigningPayload, rotateKeySigningPayload, SluiceError } from '@sluice/shared-protocol';
import type { RotateKeyRequest } from '@sluice/shared-protocol';
import type { InstanceRecord, RelayStore } from '../store/relay-store.js';
import type { ChallengeBook } from './challenge-book.js';

/** What a refused upgrade knows, for its audit row. */
export interface ConnectorAuthFailure {
  error: SluiceError;
  instanceId: string | null;
  orgId: string | null;
}

type Refusal = { ok: false } & ConnectorAuthFailure;
type Deps = { store: RelayStore; challenges: ChallengeBook; relayOrigin: string; clockSkewMs: number; now: number };

function refusal(code: ConstructorParameters<typeof SluiceError>[0], instanceId: string | null = null, orgId: string | null = null): Refusal {
  return { ok: false, error: new SluiceError(code), instanceId, orgId };
}

/** True when `signature` is a valid Ed25519 signature of `payload` by the raw public key `x`. */
export function verifyEd25519(x: string, payload: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    return verify(null, Buffer.from(payload, 'utf8'), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * What every signed connector request must show: a challenge nonce issued to this instance and not used yet, a time
 * within the allowed skew, an active instance, and a signature of `payload` by its current key.
 */
export async function verifyInstanceSignature(
  signed: { instanceId: string; nonce: string; timestamp: number; signature: string; payload: string },
  deps: Deps,
): Promise<{ ok: true; instance: InstanceRecord } | Refusal> {
  const nonce = await deps.challenges.consume(signed.nonce, signed.instanceId);
  if (nonce === 'used' || nonce === 'expired') return refusal('SIGNATURE_REPLAYED', signed.instanceId);
  if (nonce !== 'ok') return refusal('AUTH_FAILED', signed.instanceId);
  if (Math.abs(signed.timestamp - deps.now) > deps.clockSkewMs) return refusal('CLOCK_SKEW', signed.instanceId);
  const instance = await deps.store.getInstance(signed.instanceId);
  if (!instance) return refusal('INSTANCE_NOT_FOUND', signed.instanceId);
  if (instance.state === 'revoked' || instance.publicKey === null) return refusal('INSTANCE_REVOKED', instance.id, instance.orgId);
  if (instance.state === 'disabled') return refusal('INSTANCE_DISABLED', instance.id, instance.orgId);
  if (!verifyEd25519(instance.publicKey, signed.payload, signed.signature)) return refusal('AUTH_FAILED', instance.id, instance.orgId);
  return { ok: true, instance };
}

/**
 * Check the `x-sluice-connector-auth` header of an upgrade request. Runs before the upgrade completes, so a
 * socket that fails here never exists.
 */
export async function verifyConnectorAuth(header: string | undefined, deps: Deps): Promise<{ ok: true; instance: InstanceRecord } | Refusal> {
  if (!header || header.length > 2048) return refusal('AUTH_FAILED');
  let frame: AuthFrame;
  try {
    const parsed = AuthFrame.safeParse(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')));
    if (!parsed.success) return refusal('AUTH_FAILED');
    frame = parsed.data;
  } catch {
    return refusal('AUTH_FAILED');
  }
  const payload = authSigningPayload({ nonce: frame.nonce, instanceId: frame.instanceId, relayOrigin: deps.relayOrigin, timestamp: frame.timestamp });
  return verifyInstanceSignature({ ...frame, payload }, deps);
}

/**
 * Check a key rotation: signed by the instance's current key (it is the instance) and by the new key (the caller
 * holds it). Consumes the challenge nonce like an upgrade does.
 */
export async function verifyKeyRotation(body: RotateKeyRequest, deps: Deps): Promise<{ ok: true; instance: InstanceRecord } | Refusal> {
  const payload = rotateKeySigningPayload({ ...body, relayOrigin: deps.relayOrigin });
  const checked = await verifyInstanceSignature({ ...body, payload }, deps);
  if (!checked.ok) return checked;
  if (!verifyEd25519(body.newPublicKey, payload, body.newKeySignature)) return refusal('AUTH_FAILED', checked.instance.id, checked.instance.orgId);
  return checked;
}
