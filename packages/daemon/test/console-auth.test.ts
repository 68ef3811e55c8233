import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleSessions, CONSOLE_SESSION_TTL_MS, SIGN_IN_CODE_TTL_MS } from '../src/api/console/sessions.js';
import { CONSOLE_CSP } from '../src/api/console/static-files.js';
import { openDatabase, Store } from '../src/store/index.js';
import { startTestDaemon, tempDir, type TestDaemon } from './core-fixtures.js';

let d: TestDaemon | null = null;
afterEach(async () => {
  await d?.close();
  d = null;
});

/** A sign-in as the page does it: the link from the token holder, the code redeemed with our Origin. */
async function signIn(daemon: TestDaemon): Promise<{ cookie: string; secret: string; sessionId: string; url: string }> {
  const link = await daemon.request('POST', '/api/v1/console/links');
  expect(link.status).toBe(201);
  const url = link.body.url as string;
  const code = new URL(url).hash.replace('#code=', '');
  const res = await fetch(`${daemon.url}/ui/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: daemon.url }, body: JSON.stringify({ code }) });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('set-cookie')!;
  const body = (await res.json()) as { secret: string; sessionId: string };
  return { cookie: setCookie.split(';')[0]!, secret: body.secret, sessionId: body.sessionId, url };
}

function asPage(daemon: TestDaemon, s: { cookie: string; secret?: string }, method: string, path: string, extra: Record<string, string> = {}, body?: unknown) {
  const headers: Record<string, string> = { cookie: s.cookie, ...(s.secret ? { 'x-sluice-console-secret': s.secret } : {}), ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${daemon.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

describe('console sign-in', () => {
  it('puts the one-time code in the fragment of a loopback link, and the code works once', async () => {
    d = await startTestDaemon();
    const link = await d.request('POST', '/api/v1/console/links');
    const url = new URL(link.body.url);
    expect(url.origin).toBe(d.url);
    expect(url.pathname).toBe('/ui/');
    expect(url.search).toBe('');
    const code = url.hash.replace('#code=', '');
    const redeem = () => fetch(`${d!.url}/ui/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: d!.url }, body: JSON.stringify({ code }) });
    const first = await redeem();
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^sluice_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const second = await redeem();
    expect(second.status).toBe(401);
    expect(((await second.json()) as { code: string }).code).toBe('CONSOLE_CODE_INVALID');
  });

  it('never stores the cookie, the secret or the daemon token in the ledger', async () => {
    d = await startTestDaemon();
    const s = await signIn(d);
    d.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(d.home.db).toString('latin1');
    expect(file).not.toContain(s.cookie.split('=')[1]!);
    expect(file).not.toContain(s.secret);
    expect(file).toContain(s.sessionId);
  });

  it('audits a flood of wrong codes once per interval, not once per try', async () => {
    d = await startTestDaemon();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${d.url}/ui/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: d.url }, body: JSON.stringify({ code: `guess${i}`.padEnd(32, 'x') }) });
      expect(res.status).toBe(401);
    }
    const rows = d.store.db.prepare("SELECT outcome FROM audit WHERE action = 'console.sign_in'").all() as { outcome: string }[];
    expect(rows).toEqual([{ outcome: 'CONSOLE_CODE_INVALID' }]);
  });

  it('refuses a sign-in POST without an Origin (not from a browser page)', async () => {
    d = await startTestDaemon();
    const link = await d.request('POST', '/api/v1/console/links');
    const code = new URL(link.body.url).hash.replace('#code=', '');
    const res = await fetch(`${d.url}/ui/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('issues links to the token holder only, never to a console session', async () => {
    d = await startTestDaemon();
    const s = await signIn(d);
    const res = await asPage(d, s, 'POST', '/api/v1/console/links', { origin: d.url }, {});
    expect(res.status).toBe(403);
    const noToken = await fetch(`${d.url}/api/v1/console/links`, { method: 'POST' });
    expect(noToken.status).toBe(401);
  });
});

describe('a console session', () => {
  it('authorizes with the cookie and the secret together, never with the cookie alone', async () => {
    d = await startTestDaemon();
    const s = await signIn(d);
    expect((await asPage(d, s, 'GET', '/api/v1/console/overview')).status).toBe(200);
    const cookieOnly = await asPage(d, { cookie: s.cookie }, 'GET', '/api/v1/console/overview');
    expect(cookieOnly.status).toBe(403);
    expect(((await cookieOnly.json()) as { code: string }).code).toBe('CONSOLE_SECRET_REQUIRED');
    const wrongSecret = await asPage(d, { cookie: s.cookie, secret: 'x'.repeat(43) }, 'GET', '/api/v1/console/overview');
    expect(wrongSecret.status).toBe(401);
    const refused = d.store.db.prepare("SELECT outcome FROM audit WHERE action = 'auth.refused' ORDER BY seq").all() as { outcome: string }[];
    expect(refused.map((r) => r.outcome)).toEqual(['CONSOLE_SECRET_REQUIRED', 'CONSOLE_SESSION_INVALID']);
  });

  it('refuses a state-changing call without our Origin, or from another origin, even with the secret', async () => {
    d = await startTestDaemon();
    const s = await signIn(d);
    const run = await d.verb('runs.open', { workspaceId: 'web' });
    const noOrigin = await asPage(d, s, 'POST', '/api/v1/verbs/runs.abort', {}, { runId: run.body.runId });
    expect(noOrigin.status).toBe(403);
    const foreign = await asPage(d, s, 'POST', '/api/v1/verbs/runs.abort', { origin: 'http://127.0.0.1:1' }, { runId: run.body.runId });
    expect(foreign.status).toBe(403);
    expect(d.store.getRun(run.body.runId)!.state).toBe('open');
    const ok = await asPage(d, s, 'POST', '/api/v1/verbs/runs.abort', { origin: d.url }, { runId: run.body.runId, reason: 'from the page' });
    expect(ok.status).toBe(200);
    expect(d.store.getRun(run.body.runId)!.state).toBe('aborted');
  });

  it('acts as the operator who asked for the link, and refuses an actor header', async () => {
    d = await startTestDaemon();
    const s = await signIn(d);
    const run = await d.verb('runs.open', { workspaceId: 'web' });
    const spoof = await asPage(d, s, 'POST', '/api/v1/verbs/runs.abort', { origin: d.url, 'x-sluice-actor': 'planner:someone' }, { runId: run.body.runId });
    expect(spoof.status).toBe(400);
    await asPage(d, s, 'POST', '/api/v1/verbs/runs.abort', { origin: d.url }, { runId: run.body.runId });
    const row = d.store.db.prepare("SELECT actor, details FROM audit WHERE action = 'verb.runs.abort' AND outcome = 'ok'").get() as { actor: string; details: string };
    const signedIn = d.store.db.prepare("SELECT actor FROM audit WHERE action = 'console.sign_in' AND outcome = 'ok'").get() as { actor: string };
    expect(row.actor).toBe(signedIn.actor);
    expect(row.actor).toMatch(/^local:/);
    expect(JSON.parse(row.details)).toMatchObject({ consoleSession: s.sessionId });
  });

  it('is listed, and stops working once revoked or signed out', async () => {
    d = await startTestDaemon();
    const a = await signIn(d);
    const b = await signIn(d);
    const list = await d.request('GET', '/api/v1/console/sessions');
    expect(list.body.sessions.map((x: { sessionId: string }) => x.sessionId).sort()).toEqual([a.sessionId, b.sessionId].sort());
    expect((await d.request('DELETE', `/api/v1/console/sessions/${a.sessionId}`)).status).toBe(200);
    expect((await asPage(d, a, 'GET', '/api/v1/console/overview')).status).toBe(401);
    expect((await asPage(d, b, 'GET', '/api/v1/console/overview')).status).toBe(200);
    const out = await asPage(d, b, 'DELETE', '/ui/api/session', { origin: d.url });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await asPage(d, b, 'GET', '/api/v1/console/overview')).status).toBe(401);
    const actions = d.store.db.prepare("SELECT action FROM audit WHERE action LIKE 'console.%' ORDER BY seq").all() as { action: string }[];
    expect(actions.map((r) => r.action)).toEqual(['console.link_issued', 'console.sign_in', 'console.link_issued', 'console.sign_in', 'console.revoke', 'console.sign_out']);
  });
});

describe('codes and sessions expire', () => {
  it('refuses a code after two minutes and a session after its lifetime', () => {
    const store = new Store(openDatabase(`${tempDir()}/state.db`));
    let now = Date.parse('2026-01-01T00:00:00Z');
    const sessions = new ConsoleSessions(store, (row) => store.audit(row), () => now);
    const late = sessions.issueCode('local:op');
    now += SIGN_IN_CODE_TTL_MS;
    expect(() => sessions.exchange(late.code, 'ua')).toThrow(expect.objectContaining({ code: 'CONSOLE_CODE_INVALID' }));
    const { code } = sessions.issueCode('local:op');
    const { cookie, secret } = sessions.exchange(code, 'ua');
    expect(sessions.authenticate(cookie, secret)).not.toBeNull();
    now += CONSOLE_SESSION_TTL_MS;
    expect(sessions.authenticate(cookie, secret)).toBeNull();
    store.close();
  });
});

describe('the console page', () => {
  it('is served without a session under a strict CSP, and holds no data', async () => {
    d = await startTestDaemon();
    const res = await fetch(`${d.url}/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toContain(d.token);
    expect((await fetch(`${d.url}/api/v1/console/overview`)).status).toBe(401);
  });

  it('checks the Host header on the page too (DNS rebinding)', async () => {
    d = await startTestDaemon();
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: d!.port, path: '/ui/', headers: { host: 'evil.example' }, setHost: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('says CONSOLE_NOT_BUILT when there is no build', async () => {
    d = await startTestDaemon({ consoleDir: null });
    const res = await fetch(`${d.url}/ui/`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('CONSOLE_NOT_BUILT');
  });
});
