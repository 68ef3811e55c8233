import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES, RELAY_PATHS, rotateKeySigningPayload } from '@sluice/shared-protocol';
import { FakeConnector, waitUntil, workspace } from '@sluice/test-kit';
import { orgWithToken, startRelay, callVerb, connectedConnector } from './helpers.js';
import type { TestRelay } from './helpers.js';

describe('connector enrollment and authenticated upgrade', () => {
  let t: TestRelay;
  let orgId: string;
  beforeEach(async () => {
    t = await startRelay();
    orgId = (await t.store.createOrg('acme')).id;
  });
  afterEach(async () => {
    await t.close();
  });

  it('an enrollment token works exactly once, and failures are audited by hash only', async () => {
    const enr = await t.store.createEnrollmentToken(orgId, 60_000);
    const c = new FakeConnector(t.url);
    const ok = await c.enroll(enr.secret);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { instanceId: string; orgId: string; relayOrigin: string };
    expect(body.instanceId).toMatch(/^ins_/);
    expect(body.orgId).toBe(orgId);
    expect(body.relayOrigin).toBe(t.url);

    const again = await new FakeConnector(t.url).enroll(enr.secret);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { code: string }).code).toBe('ENROLLMENT_TOKEN_INVALID');
    const rows = t.store.db.prepare("SELECT detail FROM audit WHERE action = 'connector.enroll' AND outcome = 'ENROLLMENT_TOKEN_INVALID'").all() as { detail: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).not.toContain(enr.secret);
    expect((await t.store.listInstances(orgId))).toHaveLength(1);
  });

  it('refuses instance names with bidi overrides, isolates, zero-width characters or only blanks; the enrollment token stays unused', async () => {
    const bad = ['laptop\u202Egnp.exe', 'lap\u2066top\u2069', 'lap\u200Btop', 'lap\u200Dtop', '\uFEFFlaptop', 'lap\u2060top', 'lap\u200Ftop', '   '];
    const enr = await t.store.createEnrollmentToken(orgId, 60_000);
    for (const name of bad) {
      const res = await new FakeConnector(t.url).enroll(enr.secret, name);
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_INPUT');
    }
    expect((await t.store.listInstances(orgId))).toHaveLength(0);
    const ok = await new FakeConnector(t.url).enroll(enr.secret, 'Ana’s laptop — ünïcode ok');
    expect(ok.status).toBe(200);
    expect((await t.store.listInstances(orgId)).map((i) => i.name)).toEqual(['Ana’s laptop — ünïcode ok']);
  });

  it('an expired enrollment token is refused', async () => {
    const enr = await t.store.createEnrollmentToken(orgId, 1);
    await new Promise((r) => setTimeout(r, 5));
    const res = await new FakeConnector(t.url).enroll(enr.secret);
    expect(res.status).toBe(401);
  });

  it('a signed challenge opens a session: welcome, heartbeat interval, instance listed online', async () => {
    const c = await connectedConnector(t, orgId);
    const welcome = c.frames.find((f) => f.type === 'welcome');
    expect(welcome).toMatchObject({ type: 'welcome', instanceId: c.instanceId, heartbeatMs: 15_000 });
    const { token } = { token: (await t.store.createToken({ orgId, name: 'p', scopes: ['runs:read'] })).secret };
    const list = await callVerb(t.url, token, 'instances.list', {});
    expect(list.body).toMatchObject({ instances: [{ instanceId: c.instanceId, online: true, workspaces: [{ workspaceId: 'ws1' }] }] });
    c.close();
  });

  it('a later hello replaces the advertised workspaces; admins see the live session', async () => {
    const c = await connectedConnector(t, orgId, [workspace('ws1')]);
    const reader = (await t.store.createToken({ orgId, name: 'r', scopes: ['runs:read'] })).secret;
    const admin = (await t.store.createToken({ orgId, name: 'a', scopes: ['admin'] })).secret;
    c.workspaces = [workspace('ws2'), workspace('ws3')];
    c.sendHello();
    await new Promise((r) => setTimeout(r, 100));
    const list = await callVerb(t.url, reader, 'instances.list', {});
    const ws = (list.body.instances as { workspaces: { workspaceId: string }[] }[])[0]!.workspaces.map((w) => w.workspaceId);
    expect(ws).toEqual(['ws2', 'ws3']);
    expect(c.frames.filter((f) => f.type === 'welcome')).toHaveLength(1);
    const sessions = async () => ((await (await fetch(`${t.url}/api/v2/admin/sessions`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { sessions: unknown[] }).sessions;
    expect(await sessions()).toMatchObject([{ instanceId: c.instanceId, workspaces: ['ws2', 'ws3'], connectorBuild: null }]);
    // A connector that says what it runs in its hello: admins see it beside connectorVersion.
    c.build = { commit: 'c'.repeat(40), manifestSha256: 'd'.repeat(64) };
    c.sendHello();
    await waitUntil(async () => JSON.stringify(await sessions()).includes('c'.repeat(40)), { what: 'the session to show the build' });
    expect(await sessions()).toMatchObject([{ instanceId: c.instanceId, connectorVersion: '0.1.0-test', connectorBuild: c.build }]);
    const denied = await fetch(`${t.url}/api/v2/admin/sessions`, { headers: { authorization: `Bearer ${reader}` } });
    expect(denied.status).toBe(403);
    c.close();
  });

  it('a replayed nonce, a forged signature, a wrong relay origin and a skewed clock are refused before the upgrade', async () => {
    const c = new FakeConnector(t.url);
    await c.enroll((await t.store.createEnrollmentToken(orgId, 60_000)).secret);

    const { nonce } = await c.challenge();
    const header = c.authHeader(nonce);
    const first = await c.upgrade(header);
    expect(first.ws).toBeDefined();
    first.ws!.terminate();
    const replay = await c.upgrade(header);
    expect(replay).toMatchObject({ status: 401, body: { code: 'SIGNATURE_REPLAYED' } });

    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = await c.upgrade(c.authHeader((await c.challenge()).nonce, { key: other }));
    expect(forged).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });

    const elsewhere = await c.upgrade(c.authHeader((await c.challenge()).nonce, { relayOrigin: 'https://evil.example' }));
    expect(elsewhere).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });

    const skewed = await c.upgrade(c.authHeader((await c.challenge()).nonce, { timestamp: Date.now() - 5 * 60_000 }));
    expect(skewed).toMatchObject({ status: 401, body: { code: 'CLOCK_SKEW' } });

    const invented = await c.upgrade(c.authHeader('A'.repeat(43)));
    expect(invented).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });

    const none = await c.upgrade(undefined);
    expect(none).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });

    const failed = t.store.db.prepare("SELECT outcome FROM audit WHERE action = 'connector.auth_failed' ORDER BY seq").all() as { outcome: string }[];
    // One row per reason, org and source at once; repeats within the interval are counted into one later row.
    expect(failed.map((r) => r.outcome)).toEqual(['SIGNATURE_REPLAYED', 'AUTH_FAILED', 'CLOCK_SKEW', 'AUTH_FAILED']);
  });

  it('the challenge answers the same shape for unknown instances; the upgrade says INSTANCE_NOT_FOUND', async () => {
    const c = new FakeConnector(t.url);
    c.instanceId = 'ins_01JD0000000000000000000000';
    const ch = await c.challenge();
    expect(ch.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const r = await c.upgrade(c.authHeader(ch.nonce));
    expect(r).toMatchObject({ status: 404, body: { code: 'INSTANCE_NOT_FOUND' } });
  });

  it('an unsupported protocol version gets a fatal error frame and close code 4004', async () => {
    const c = new FakeConnector(t.url);
    await c.enroll((await t.store.createEnrollmentToken(orgId, 60_000)).secret);
    const f = await c.connect('2001-01-01');
    expect(f).toMatchObject({ type: 'error', code: 'UNSUPPORTED_PROTOCOL_VERSION', fatal: true });
    expect(await c.waitClose()).toBe(CLOSE_CODES.unsupportedVersion);
  });

  it('rotate-key installs a new key only when the old key signs the request; the old key stops working at once', async () => {
    const c = await connectedConnector(t, orgId);
    const oldWs = c.ws!;
    const closed = new Promise<number>((r) => oldWs.once('close', (code) => r(code)));
    const fresh = generateKeyPairSync('ed25519');
    const freshX = (fresh.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    const rotation = async (oldKey: KeyObject, newKey: KeyObject) => {
      const { nonce } = await c.challenge();
      const timestamp = Date.now();
      const payload = rotateKeySigningPayload({ nonce, instanceId: c.instanceId, relayOrigin: c.relayOrigin, timestamp, newPublicKey: freshX });
      const sig = (k: KeyObject) => sign(null, Buffer.from(payload), k).toString('base64url');
      const body = { instanceId: c.instanceId, nonce, timestamp, newPublicKey: freshX, signature: sig(oldKey), newKeySignature: sig(newKey) };
      const res = await fetch(`${t.url}${RELAY_PATHS.rotateKey}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { code?: string; instanceId?: string } };
    };
    // Someone holding only a key of their own cannot install it.
    const forged = await rotation(fresh.privateKey, fresh.privateKey);
    expect(forged).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });
    // The old key alone cannot install a key the caller does not hold.
    expect(await rotation(c.privateKey, c.privateKey)).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });
    expect((await t.store.getInstance(c.instanceId))!.publicKey).toBe(c.publicKeyX);

    expect(await rotation(c.privateKey, fresh.privateKey)).toEqual({ status: 200, body: { instanceId: c.instanceId } });
    expect((await t.store.getInstance(c.instanceId))!.publicKey).toBe(freshX);
    expect(await closed).toBe(CLOSE_CODES.goingAway);
    const old = await c.upgrade(c.authHeader((await c.challenge()).nonce));
    expect(old).toMatchObject({ status: 401, body: { code: 'AUTH_FAILED' } });
    const renewed = await c.upgrade(c.authHeader((await c.challenge()).nonce, { key: fresh.privateKey }));
    expect(renewed.ws).toBeDefined();
    renewed.ws!.close();
    const rows = t.store.db.prepare("SELECT outcome FROM audit WHERE action = 'connector.key_rotated' ORDER BY seq").all() as { outcome: string }[];
    expect(rows.map((r) => r.outcome)).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'ok']);
    c.close();
  });

  it('a newer session replaces the old one: the old socket is closed with "replaced" naming the new peer, and the relay audits both sessions', async () => {
    const c = await connectedConnector(t, orgId);
    const oldWs = c.ws!;
    const closed = new Promise<{ code: number; reason: string }>((r) => oldWs.once('close', (code, reason) => r({ code, reason: reason.toString('utf8') })));
    await c.connect();
    const end = await closed;
    expect(end.code).toBe(CLOSE_CODES.replaced);
    expect(end.reason).toBe('replaced by a newer session of this instance from 127.0.0.1');
    expect(t.relay.hub.isOnline(c.instanceId)).toBe(true);
    const rows = t.store.db.prepare("SELECT target, ip, detail FROM audit WHERE action = 'connector.session_replaced'").all() as { target: string; ip: string; detail: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ target: c.instanceId, ip: '127.0.0.1' });
    const connected = t.store.db.prepare("SELECT detail FROM audit WHERE action = 'connector.connected' ORDER BY seq").all() as { detail: string }[];
    const [first, second] = connected.map((r) => (JSON.parse(r.detail) as { sessionId: string }).sessionId);
    expect(JSON.parse(rows[0]!.detail)).toEqual({ replacedSessionId: first, replacedIp: '127.0.0.1', sessionId: second, ip: '127.0.0.1' });
    c.close();
  });

  it('disabling closes the socket and refuses reconnects until enabled; revoking needs a new enrollment', async () => {
    const { token } = await orgWithToken(t.store, 'admins', ['admin']);
    // Admin token must be in the same org as the instance.
    const admin = (await t.store.createToken({ orgId, name: 'admin', scopes: ['admin'] })).secret;
    const c = await connectedConnector(t, orgId);
    const post = (path: string, tok: string) => fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${tok}` } });

    const foreign = await post(`/api/v2/admin/instances/${c.instanceId}/disable`, token);
    expect(foreign.status).toBe(404);
    expect(t.relay.hub.isOnline(c.instanceId)).toBe(true);

    const closed = c.waitClose();
    expect((await post(`/api/v2/admin/instances/${c.instanceId}/disable`, admin)).status).toBe(200);
    expect(await closed).toBe(CLOSE_CODES.disabled);
    const refused = await c.upgrade(c.authHeader((await c.challenge()).nonce));
    expect(refused).toMatchObject({ status: 403, body: { code: 'INSTANCE_DISABLED' } });

    expect((await post(`/api/v2/admin/instances/${c.instanceId}/enable`, admin)).status).toBe(200);
    await c.connect();
    expect(t.relay.hub.isOnline(c.instanceId)).toBe(true);

    const closed2 = c.waitClose();
    expect((await post(`/api/v2/admin/instances/${c.instanceId}/revoke`, admin)).status).toBe(200);
    expect(await closed2).toBe(CLOSE_CODES.revoked);
    const gone = await c.upgrade(c.authHeader((await c.challenge()).nonce));
    expect(gone).toMatchObject({ status: 401, body: { code: 'INSTANCE_REVOKED' } });
    expect((await t.store.getInstance(c.instanceId))?.publicKey).toBeNull();
  });
});

describe('heartbeats', () => {
  it('a connector that stops answering pings is closed with heartbeatTimeout and shown offline', async () => {
    const t = await startRelay({ heartbeatMs: 1000 });
    try {
      const orgId = (await t.store.createOrg('acme')).id;
      const c = await connectedConnector(t, orgId);
      c.answerPings = false;
      expect(await c.waitClose()).toBe(CLOSE_CODES.heartbeatTimeout);
      expect(c.frames.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(2);
      expect(t.relay.hub.isOnline(c.instanceId)).toBe(false);
    } finally {
      await t.close();
    }
  });
});
