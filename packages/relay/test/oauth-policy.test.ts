import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTOR_PATTERN } from '@sluice/shared-protocol';
import { parseRelayConfig } from '../src/index.js';
import { oauthActor } from '../src/auth/oauth-actor.js';
import { callVerb, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const ISSUER = 'https://idp.example.com';
const AUD = 'http://relay.test/mcp';

let jwksServer: Server;
let key: CryptoKey;
let t: TestRelay;
let strict: TestRelay;
let orgId: string;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  t = await startRelay({ publicUrl: 'http://relay.test', oauth: { issuer: ISSUER, jwksUrl, maxLifetimeSeconds: 3600 } });
  strict = await startRelay({ publicUrl: 'http://relay.test', oauth: { issuer: ISSUER, jwksUrl, requireTyp: true } });
  orgId = (await t.store.createOrg('org-jwt')).id;
  await strict.store.createOrg('unused');
});
afterAll(async () => {
  await t?.close();
  await strict?.close();
  await new Promise((r) => jwksServer.close(r));
});

interface Mint {
  sub?: string;
  typ?: string;
  iat?: number;
  exp?: number | null;
  org?: string;
}
function mint(o: Mint = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sluice_org: o.org ?? orgId, scope: 'runs:read audit:read', iss: ISSUER, aud: AUD, sub: o.sub ?? 'user-1', iat: o.iat ?? now };
  if (o.exp !== null) claims.exp = o.exp ?? now + 300;
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...(o.typ ? { typ: o.typ } : {}) }).sign(key);
}
const list = async (relay: TestRelay, jwt: string) => callVerb(relay.url, jwt, 'instances.list', {});

describe('OAuth access-token policy', () => {
  it('requires exp and bounds the lifetime (iat to exp, and now to exp)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await list(t, await mint())).status).toBe(200);
    expect((await list(t, await mint({ exp: now + 3500 }))).status).toBe(200);
    for (const [label, m] of [
      ['no exp', { exp: null }],
      ['two hours', { exp: now + 7200 }],
      ['iat long ago, exp soon', { iat: now - 7200, exp: now + 60 }],
      ['iat in the future to hide a long lifetime', { iat: now + 86_400 * 300, exp: now + 86_400 * 300 + 60 }],
    ] as const) {
      const res = await list(t, await mint(m));
      expect(res.status, label).toBe(401);
      expect(res.body.code, label).toBe('UNAUTHENTICATED');
    }
  });

  it('accepts at+jwt, JWT or no typ by default; refuses other token types; requireTyp takes only at+jwt', async () => {
    for (const typ of [undefined, 'JWT', 'at+jwt', 'application/at+JWT']) expect((await list(t, await mint({ typ }))).status, String(typ)).toBe(200);
    for (const typ of ['id_token+jwt', 'dpop+jwt', 'logout+jwt', 'secevent+jwt']) {
      const res = await list(t, await mint({ typ }));
      expect(res.status, typ).toBe(401);
      expect(res.body.message).toMatch(/not an access token type/);
    }
    const strictOrg = (await strict.store.listOrgs())[0]!.id;
    expect((await list(strict, await mint({ typ: 'at+jwt', org: strictOrg }))).status).toBe(200);
    for (const typ of [undefined, 'JWT']) expect((await list(strict, await mint({ typ, org: strictOrg }))).status, String(typ)).toBe(401);
  });

  it('requires https: for the issuer and the JWKS unless they are on loopback', () => {
    const jwks = { keys: [{ kty: 'EC' }] };
    expect(() => parseRelayConfig({ oauth: { issuer: 'http://idp.example.com', jwks } })).toThrow(/https/);
    expect(() => parseRelayConfig({ oauth: { issuer: ISSUER, jwksUrl: 'http://idp.example.com/jwks' } })).toThrow(/https/);
    expect(() => parseRelayConfig({ oauth: { issuer: ISSUER, jwksUrl: 'ftp://idp.example.com/jwks' } })).toThrow(/https/);
    for (const local of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000']) {
      expect(parseRelayConfig({ oauth: { issuer: local, jwksUrl: `${local}/jwks` } }).oauth?.issuer).toBe(local);
    }
  });

  it('a revoked subject is refused at once (CLI against the same database) and audited; restoring lets it in again', async () => {
    const jwt = await mint({ sub: 'mallory' });
    expect((await list(t, jwt)).status).toBe(200);
    const db = join(t.dir, 'relay.db');
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8' });
    expect(run('oauth', 'revoke-subject', '--issuer', ISSUER, 'mallory').status).toBe(0);
    const refused = await list(t, jwt);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('TOKEN_REVOKED');
    expect((await list(t, await mint({ sub: 'mallory' }))).body.code).toBe('TOKEN_REVOKED');
    expect((await list(t, await mint({ sub: 'someone-else' }))).status).toBe(200);
    await t.store.flushAudit();
    const rows = t.store.db.prepare("SELECT actor, action, outcome, detail FROM audit WHERE action IN ('oauth.revoke_subject', 'auth.failed') AND (target = 'mallory' OR outcome = 'TOKEN_REVOKED')").all() as { action: string; outcome: string; detail: string }[];
    expect(rows.map((r) => `${r.action}:${r.outcome}`)).toEqual(['oauth.revoke_subject:ok', 'auth.failed:TOKEN_REVOKED']);
    expect(JSON.parse(run('--json', 'oauth', 'list-revoked').stdout)).toMatchObject({ subjects: [{ issuer: ISSUER, subject: 'mallory' }] });
    expect(run('oauth', 'restore-subject', '--issuer', ISSUER, 'mallory').status).toBe(0);
    expect((await list(t, jwt)).status).toBe(200);
  });
});

describe('OAuth actors', () => {
  it('distinct subjects never share an actor, long ones included, and every actor fits the actor pattern', () => {
    const long = 'x'.repeat(300);
    const subjects = ['alice smith', 'alice_smith', 'alice#smith', 'alice+smith', 'alice+20smith', 'alice%20smith', 'alicé', 'alice\u00e9', 'ali\u0301ce', long, `${long}y`, `${long}+h`, 'a'.repeat(190), 'a'.repeat(191)];
    const actors = subjects.map((s) => oauthActor('idp.example.com', s));
    expect(new Set(actors).size).toBe(new Set(subjects).size);
    for (const a of actors) expect(a).toMatch(ACTOR_PATTERN);
    expect(oauthActor('idp.example.com', 'user-42')).toBe('oauth:idp.example.com/user-42');
    expect(oauthActor('[::1]:9000', 'u')).toMatch(ACTOR_PATTERN);
  });

  it('the relay names the caller by that encoding', async () => {
    const a = await list(t, await mint({ sub: 'alice smith' }));
    const b = await list(t, await mint({ sub: 'alice_smith' }));
    expect([a.status, b.status]).toEqual([200, 200]);
    await t.store.flushAudit();
    const actors = (t.store.db.prepare("SELECT DISTINCT actor FROM audit WHERE actor LIKE 'oauth:%alice%'").all() as { actor: string }[]).map((r) => r.actor);
    expect(actors.sort()).toEqual(['oauth:idp.example.com/alice+20smith', 'oauth:idp.example.com/alice_smith']);
  });
});
