// Forged, expired and misdirected OAuth access tokens (JWT) against a relay that trusts one issuer, plus the rate
// limit: each refused with its catalog code and nothing written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelay, SqliteRelayStore } from '@sluice/relay';
import type { Relay } from '@sluice/relay';
import { relayVerbPath } from '@sluice/shared-protocol';
import { expectRefusal, recordCount } from './expect.js';
import { untouchedCounts } from './in-process-stack.js';

const ISSUER = 'https://idp.example.com';
const RESOURCE = 'https://relay.example.com/mcp';

let dir: string;
let store: SqliteRelayStore;
let relay: Relay;
let limited: Relay;
let key: CryptoKey;
let otherKey: CryptoKey;
let orgId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-hostile-oauth-'));
  store = new SqliteRelayStore(join(dir, 'relay.db'));
  orgId = (await store.createOrg('oauth-org')).id;
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const log = pino({ level: 'silent' });
  relay = await buildRelay({ store, logger: log }, { publicUrl: 'https://relay.example.com', oauth: { issuer: ISSUER, jwks: { keys: [jwk as Record<string, unknown>] } }, rateLimit: { max: 100_000, timeWindowMs: 60_000 } });
  limited = await buildRelay({ store, logger: log }, { rateLimit: { max: 3, timeWindowMs: 60_000 } });
}, 30_000);

afterAll(async () => {
  await relay?.close();
  await limited?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Claims {
  iss?: string;
  aud?: string;
  sub?: string;
  exp?: number;
  nbf?: number;
  scope?: string;
  sluice_org?: string;
}

async function jwt(claims: Claims, signWith: CryptoKey = key, header: Record<string, unknown> = { alg: 'ES256', kid: 'k1' }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const full = { iss: ISSUER, aud: RESOURCE, sub: 'user-1', exp: now + 300, scope: 'runs:read', sluice_org: orgId, ...claims };
  return new SignJWT(full as Record<string, unknown>).setProtectedHeader(header as { alg: string }).setIssuedAt(now).sign(signWith);
}

function call(app: Relay, token: string) {
  return app.app.inject({ method: 'POST', url: relayVerbPath('instances.list'), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: '{}' });
}

describe('OAuth access tokens', () => {
  it('a good token works; forged, expired, misdirected and org-less ones are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = await call(relay, await jwt({}));
    expect(good.statusCode).toBe(200);
    const before = untouchedCounts(store.db);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases: Array<[string, () => Promise<string>, string]> = [
      ['signed by another key', () => jwt({}, otherKey), 'UNAUTHENTICATED'],
      ['alg none', async () => `${b64({ alg: 'none' })}.${b64({ iss: ISSUER, aud: RESOURCE, sub: 'x', exp: now + 300, sluice_org: orgId })}.`, 'UNAUTHENTICATED'],
      ['tampered payload', async () => {
        const [h, , s] = (await jwt({})).split('.');
        return `${h}.${b64({ iss: ISSUER, aud: RESOURCE, sub: 'admin', exp: now + 300, scope: 'admin', sluice_org: orgId })}.${s}`;
      }, 'UNAUTHENTICATED'],
      ['expired', () => jwt({ exp: now - 60 }), 'TOKEN_EXPIRED'],
      ['not yet valid', () => jwt({ nbf: now + 3600 }), 'UNAUTHENTICATED'],
      ['wrong issuer', () => jwt({ iss: 'https://evil.example' }), 'UNAUTHENTICATED'],
      ['wrong audience', () => jwt({ aud: 'https://other-relay.example/mcp' }), 'UNAUTHENTICATED'],
      ['unknown org', () => jwt({ sluice_org: 'org_01JAAAAAAAAAAAAAAAAAAAAAAA' }), 'UNAUTHENTICATED'],
      ['org claim is a prototype key', () => jwt({ sluice_org: '__proto__' }), 'UNAUTHENTICATED'],
      ['no subject', () => jwt({ sub: '' }), 'UNAUTHENTICATED'],
      ['unknown kid', () => jwt({}, key, { alg: 'ES256', kid: 'nope' }), 'UNAUTHENTICATED'],
      ['garbage in three parts', async () => 'a.b.c', 'UNAUTHENTICATED'],
    ];
    for (const [label, make, code] of cases) {
      const res = await call(relay, await make());
      expectRefusal(res, label, { status: 401, code });
    }
    // A token without the scope the verb needs.
    const noScope = await call(relay, await jwt({ scope: 'audit:read' }));
    expectRefusal(noScope, 'missing scope', { status: 403, code: 'INSUFFICIENT_SCOPE' });
    expect(untouchedCounts(store.db)).toEqual(before);
    recordCount('relay.oauth', cases.length + 1);
  });

  it('the rate limit answers 429 RATE_LIMITED, per token', async () => {
    const { secret } = await store.createToken({ orgId, name: 'busy', scopes: ['runs:read'] });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await call(limited, secret)).statusCode);
    expect(codes.slice(0, 3)).toEqual([200, 200, 200]);
    const res = await call(limited, secret);
    expectRefusal(res, 'over the limit', { status: 429, code: 'RATE_LIMITED' });
    recordCount('relay.rateLimit', 1);
  });
});
