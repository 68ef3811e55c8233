import { createHash } from 'node:crypto';
import { ACTOR_IDENTITY_MAX, actorOf } from '@sluice/shared-protocol';

const HASH_HEX = 32;
const PLAIN = /^[A-Za-z0-9._@/:-]$/;

/**
 * Every character outside the actor alphabet (and `+` itself) becomes `+` and two hex digits per UTF-8 byte, so
 * distinct subjects never share an encoding.
 */
function escapeIdentity(s: string): string {
  let out = '';
  for (const ch of s) {
    if (PLAIN.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `+${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The actor of an OAuth subject: `oauth:<issuer host>/<escaped subject>`. One that would be too long keeps a prefix
 * and ends in `+h` and a SHA-256 of issuer and subject; `+h` never occurs in an escaped text (an escape is hex).
 */
export function oauthActor(issuerHost: string, subject: string): string {
  const identity = `${escapeIdentity(issuerHost)}/${escapeIdentity(subject)}`;
  if (identity.length <= ACTOR_IDENTITY_MAX) return actorOf('oauth', identity);
  const digest = createHash('sha256').update(JSON.stringify([issuerHost, subject])).digest('hex').slice(0, HASH_HEX);
  return actorOf('oauth', `${identity.slice(0, ACTOR_IDENTITY_MAX - HASH_HEX - 2)}+h${digest}`);
}

/** The actor of a caller with a token of the built-in authorization server: `oauth:<org>/<grant>`. */
export function grantActor(orgId: string, grantId: string): string {
  return actorOf('oauth', `${orgId}/${escapeIdentity(grantId)}`);
}
