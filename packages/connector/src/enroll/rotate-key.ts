import { readFileSync } from 'node:fs';
import { ChallengeFrame, ErrorBody, RELAY_PATHS, rotateKeySigningPayload } from '@sluice/shared-protocol';
import type { RotateKeyRequest } from '@sluice/shared-protocol';
import { loadConnectorConfig, saveConnectorConfig } from '../config/connector-config.js';
import { ConnectorFailure, EXIT_CODES } from '../errors/exit-codes.js';
import { generateIdentity, privateKeyObject, signPayload } from '../identity/ed25519.js';
import { httpJson } from '../net/http-json.js';
import type { HttpJsonOptions, HttpJsonResult } from '../net/http-json.js';
import { checkRelayUrl, relayHttpUrl } from '../net/relay-url.js';

/**
 * Replace this instance's key pair: a fresh challenge signed by the current key (we are the instance) and by the new
 * one (we hold it), then the new private key goes into the config. The relay refuses the old key from then on and
 * closes the session a running connector holds; that connector reconnects with the new key from the config.
 */
export async function rotateKey(configPath: string): Promise<{ instanceId: string; publicKey: string }> {
  const config = loadConnectorConfig(configPath);
  const base = checkRelayUrl(config.relayUrl, config.tls.insecure);
  const ca = config.tls.ca ? readFileSync(config.tls.ca, 'utf8') : undefined;
  const call = async (url: URL, opts: Pick<HttpJsonOptions, 'method' | 'body'>, what: string): Promise<unknown> => answer(await httpJson(url, { ...opts, ca, timeoutMs: 15_000, maxBytes: 64 * 1024 }), base, what);

  const challengeUrl = relayHttpUrl(base, RELAY_PATHS.connectorChallenge);
  challengeUrl.searchParams.set('instanceId', config.instanceId);
  const challenge = ChallengeFrame.safeParse(await call(challengeUrl, { method: 'GET' }, 'challenge'));
  if (!challenge.success) throw new ConnectorFailure('RELAY_ERROR', 'the relay answered the challenge request with something that is not a challenge');

  const fresh = generateIdentity();
  const timestamp = Date.now();
  const payload = rotateKeySigningPayload({ nonce: challenge.data.nonce, instanceId: config.instanceId, relayOrigin: config.relayOrigin, timestamp, newPublicKey: fresh.publicKey });
  const body: RotateKeyRequest = {
    instanceId: config.instanceId,
    nonce: challenge.data.nonce,
    timestamp,
    newPublicKey: fresh.publicKey,
    signature: signPayload(privateKeyObject(config.privateKey), payload),
    newKeySignature: signPayload(privateKeyObject(fresh.privateKeyPem), payload),
  };
  await call(relayHttpUrl(base, RELAY_PATHS.rotateKey), { method: 'POST', body }, 'key rotation');
  saveConnectorConfig(configPath, { ...config, privateKey: fresh.privateKeyPem });
  return { instanceId: config.instanceId, publicKey: fresh.publicKey };
}

function answer(res: HttpJsonResult, base: URL, what: string): unknown {
  if (res.kind !== 'response') {
    const detail = res.kind === 'unreachable' ? res.message : res.kind;
    throw new ConnectorFailure('RELAY_UNAVAILABLE', `cannot reach the relay at ${base.origin} (${detail})`, EXIT_CODES.relayUnavailable);
  }
  if (res.status === 200) return res.body;
  const err = ErrorBody.safeParse(res.body);
  if (err.success) throw new ConnectorFailure(err.data.code as 'RELAY_ERROR', `the relay refused the ${what}: ${err.data.code}: ${err.data.message}`);
  throw new ConnectorFailure('RELAY_ERROR', `the relay refused the ${what} with status ${res.status}`);
}
