import { createPublicKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { EnrollRequest, InstanceId, RELAY_PATHS, RotateKeyRequest, SluiceError, zodDetails } from '@sluice/shared-protocol';
import type { EnrollResponse } from '@sluice/shared-protocol';
import { hashSecret, isWellFormedSecret } from '../../tokens/token-format.js';
import type { RelayContext } from '../context.js';

const ChallengeQuery = z.strictObject({ instanceId: InstanceId });

/** Enrollment and challenges: the HTTP half of the connector handshake (the upgrade is in the hub). */
export function registerConnectorRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.post(RELAY_PATHS.enroll, async (request): Promise<EnrollResponse> => {
    const parsed = EnrollRequest.safeParse(request.body);
    if (!parsed.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(parsed.error));
    const { token, publicKey, name } = parsed.data;
    const hash = hashSecret(token);
    const refuse = (): SluiceError => {
      ctx.refusals.record({
        orgId: null,
        actor: 'system:relay-enrollment',
        action: 'connector.enroll',
        outcome: 'ENROLLMENT_TOKEN_INVALID',
        ip: request.ip,
        detail: { presentedSha256: hash },
      });
      return new SluiceError('ENROLLMENT_TOKEN_INVALID');
    };
    if (!isWellFormedSecret('enrollment', token)) throw refuse();
    try {
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
      if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    } catch {
      throw new SluiceError('INVALID_INPUT', 'The public key is not a raw Ed25519 key.');
    }
    const instance = await ctx.store.enroll(hash, { name, publicKey });
    if (!instance) throw refuse();
    await ctx.store.appendAudit({
      orgId: instance.orgId,
      actor: 'system:relay-enrollment',
      action: 'connector.enroll',
      target: instance.id,
      outcome: 'ok',
      ip: request.ip,
      detail: { name },
    });
    return { instanceId: instance.id, orgId: instance.orgId, relayOrigin: ctx.origin() };
  });

  app.post(RELAY_PATHS.rotateKey, (request) => {
    const parsed = RotateKeyRequest.safeParse(request.body);
    if (!parsed.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(parsed.error));
    return ctx.hub.rotateKey(parsed.data, request.ip);
  });

  app.get(RELAY_PATHS.connectorChallenge, (request) => {
    const parsed = ChallengeQuery.safeParse(request.query);
    if (!parsed.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(parsed.error));
    return ctx.hub.challenges.issue(parsed.data.instanceId, ctx.origin());
  });
}
