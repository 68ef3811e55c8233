import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { ConnectorConfig } from '../config/connector-config.js';

/** A fresh Ed25519 key pair: the PKCS8 PEM to keep and the raw public key (base64url, JWK `x`) to register. */
export function generateIdentity(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { privateKeyPem: pem, publicKey: publicKeyOf(publicKey) };
}

/** The key object of a stored private key (PEM or JWK). */
export function privateKeyObject(stored: ConnectorConfig['privateKey']): KeyObject {
  const key = typeof stored === 'string' ? createPrivateKey(stored) : createPrivateKey({ key: stored, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the connector key must be an Ed25519 key');
  return key;
}

/** Raw public key as base64url (the JWK `x` value). */
export function publicKeyOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an OKP key');
  return jwk.x;
}

/** Ed25519 signature of a UTF-8 payload, base64url (86 characters). */
export function signPayload(key: KeyObject, payload: string): string {
  return sign(null, Buffer.from(payload, 'utf8'), key).toString('base64url');
}
