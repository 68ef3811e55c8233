import { readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SLUICE_VERSION } from '@sluice/shared-protocol';
import { git } from '@sluice/test-kit';
import { RefusalAudit } from '../src/api/refusal-audit.js';
import { createLogger, startDaemon, verifyAuditChain } from '../src/index.js';
import { leaveDeadSocket, startTestDaemon, tempDir, type Body, type TestDaemon } from './core-fixtures.js';

let d: TestDaemon | null = null;
const homes: string[] = [];
afterEach(async () => {
  await d?.close();
  d = null;
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

/** A raw request, so the Host header can be anything. */
function rawRequest(port: number, headers: Record<string, string>): Promise<{ status: number; body: Body }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/v1/workspaces', method: 'GET', headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function refusals(daemon: TestDaemon) {
  return daemon.store.db.prepare("SELECT actor, outcome, details FROM audit WHERE action = 'auth.refused' ORDER BY seq").all() as { actor: string; outcome: string; details: string }[];
}

describe('the /api/v1 guard', () => {
  it('serves /healthz without a token: version, the commit of this checkout, no manifest in a clone', async () => {
    d = await startTestDaemon();
    const res = await fetch(`${d.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, version: SLUICE_VERSION, commit: git(process.cwd(), 'rev-parse', 'HEAD'), manifestSha256: null });
  });

  it.each([
    ['no token', {}, 401, 'UNAUTHENTICATED'],
    ['a wrong token', { authorization: 'Bearer not-the-token' }, 401, 'UNAUTHENTICATED'],
    ['a non-bearer scheme', { authorization: 'Basic Zm9vOmJhcg==' }, 401, 'UNAUTHENTICATED'],
  ])('refuses %s with 401 and audits it', async (_name, headers: Record<string, string>, status, code) => {
    d = await startTestDaemon();
    const res = await rawRequest(d.port, { host: `127.0.0.1:${d.port}`, ...headers });
    expect(res).toEqual({ status, body: { code, message: expect.any(String), hint: expect.any(String), retryable: false } });
    const rows = refusals(d);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).toBe(code);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the right token', async () => {
    d = await startTestDaemon();
    const res = await rawRequest(d.port, { host: 'evil.example', authorization: `Bearer ${d.token}` });
    expect(res).toEqual({ status: 403, body: { code: 'HOST_NOT_ALLOWED', message: expect.any(String), hint: expect.any(String), retryable: false } });
    const wrongPort = await rawRequest(d.port, { host: `127.0.0.1:${d.port + 1}`, authorization: `Bearer ${d.token}` });
    expect(wrongPort.body.code).toBe('HOST_NOT_ALLOWED');
    // The second refusal of the same reason from the same source in the interval is counted, not written.
    expect(refusals(d).map((r) => r.outcome)).toEqual(['HOST_NOT_ALLOWED']);
  });

  it('a flood of refusals writes one row per reason and source per interval, then one row with the count', async () => {
    d = await startTestDaemon();
    for (let i = 0; i < 40; i++) await rawRequest(d.port, { host: 'evil.example' });
    for (let i = 0; i < 10; i++) await rawRequest(d.port, { host: `127.0.0.1:${d.port}`, authorization: 'Bearer wrong' });
    expect(refusals(d).map((r) => r.outcome)).toEqual(['HOST_NOT_ALLOWED', 'UNAUTHENTICATED']);
    const store = d.store;
    await d.app.close();
    const rows = store.db.prepare("SELECT outcome, details FROM audit WHERE action = 'auth.refused' ORDER BY seq").all() as { outcome: string; details: string }[];
    expect(rows.slice(2).map((r) => [r.outcome, JSON.parse(r.details)])).toEqual([
      ['HOST_NOT_ALLOWED', expect.objectContaining({ source: '127.0.0.1', repeated: 39 })],
      ['UNAUTHENTICATED', expect.objectContaining({ source: '127.0.0.1', repeated: 9 })],
    ]);
    expect(verifyAuditChain(store.db)).toMatchObject({ ok: true });
  });

  it('the interval is per reason and source: a refusal after it ends is written again, after the count of the last one', async () => {
    d = await startTestDaemon();
    let now = 0;
    const audit = new RefusalAudit(d.store, () => now, 1000);
    const row = { actor: 'system:api', action: 'test.refused', outcome: 'UNAUTHENTICATED', details: { path: '/x' } };
    audit.record(row, '127.0.0.1');
    audit.record(row, '127.0.0.1');
    audit.record(row, '127.0.0.2');
    now = 1000;
    audit.record(row, '127.0.0.1');
    audit.stop();
    const rows = d.store.db.prepare("SELECT details FROM audit WHERE action = 'test.refused' ORDER BY seq").all() as { details: string }[];
    expect(rows.map((r) => JSON.parse(r.details) as Record<string, unknown>).map((x) => [x['source'] ?? null, x['repeated'] ?? 0])).toEqual([
      [null, 0],
      [null, 0],
      ['127.0.0.1', 1],
      [null, 0],
    ]);
  });

  it('accepts every loopback name with the right port', async () => {
    d = await startTestDaemon();
    for (const host of [`127.0.0.1:${d.port}`, `localhost:${d.port}`, `[::1]:${d.port}`]) {
      const res = await rawRequest(d.port, { host, authorization: `Bearer ${d.token}` });
      expect(res.status, host).toBe(200);
    }
  });

  it('refuses a foreign browser Origin but accepts its own', async () => {
    d = await startTestDaemon();
    const foreign = await rawRequest(d.port, { host: `127.0.0.1:${d.port}`, origin: 'https://evil.example', authorization: `Bearer ${d.token}` });
    expect(foreign).toEqual({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED', message: expect.any(String), hint: expect.any(String), retryable: false } });
    const own = await rawRequest(d.port, { host: `127.0.0.1:${d.port}`, origin: `http://127.0.0.1:${d.port}`, authorization: `Bearer ${d.token}` });
    expect(own.status).toBe(200);
  });

  it('stores a hash of a presented token in the audit row, never the token, and keeps the chain valid', async () => {
    d = await startTestDaemon();
    const presented = 'wrong-token-that-must-not-be-stored-0123456789';
    await rawRequest(d.port, { host: `127.0.0.1:${d.port}`, authorization: `Bearer ${presented}` });
    await rawRequest(d.port, { host: 'evil.example', authorization: `Bearer ${d.token}` });
    const [wrong, rebind] = refusals(d);
    expect(JSON.parse(wrong!.details).tokenSha256).toBe(createHash('sha256').update(presented).digest('hex'));
    expect(JSON.parse(rebind!.details).tokenSha256).toBe(createHash('sha256').update(d.token).digest('hex'));
    d.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const dbBytes = readFileSync(d.home.db);
    expect(dbBytes.includes(Buffer.from(presented))).toBe(false);
    expect(dbBytes.includes(Buffer.from(d.token))).toBe(false);
    expect(verifyAuditChain(d.store.db).ok).toBe(true);
  });

  it('refuses a malformed actor header and a remote caller on operator routes', async () => {
    d = await startTestDaemon();
    const badActor = await d.request('GET', '/api/v1/workspaces', { headers: { 'x-sluice-actor': 'nobody' } });
    expect(badActor.status).toBe(400);
    const remoteStatus = await d.request('GET', '/api/v1/status', { headers: { 'x-sluice-shared-workspaces': 'web' } });
    expect(remoteStatus).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const remoteVerify = await d.request('POST', '/api/v1/audit/verify', { headers: { 'x-sluice-shared-workspaces': 'web' } });
    expect(remoteVerify.status).toBe(403);
  });
});

describe('startDaemon', () => {
  it('refuses to bind anywhere but 127.0.0.1', async () => {
    const home = tempDir();
    homes.push(home);
    await expect(startDaemon({ home, host: '0.0.0.0', port: 0 })).rejects.toThrow(/127\.0\.0\.1 only/);
    await expect(startDaemon({ home, host: '::', port: 0 })).rejects.toThrow(/127\.0\.0\.1 only/);
  });

  it('writes daemon.json and daemon.token with mode 600, never logs the token, and removes daemon.json on close', async () => {
    const home = tempDir();
    homes.push(home);
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    const running = await startDaemon({ home, port: 0, logger: createLogger({ level: 'trace', destination: sink }) });
    const info = JSON.parse(readFileSync(`${home}/daemon.json`, 'utf8')) as { url: string; pid: number };
    expect(info).toMatchObject({ url: running.url, pid: process.pid });
    const { statSync, existsSync } = await import('node:fs');
    expect(statSync(`${home}/daemon.json`).mode & 0o777).toBe(0o600);
    expect(statSync(`${home}/daemon.token`).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const token = readFileSync(`${home}/daemon.token`, 'utf8').trim();
    const ok = await fetch(`${running.url}/api/v1/workspaces`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    await fetch(`${running.url}/api/v1/workspaces`, { headers: { authorization: `Bearer ${token}x` } });
    await running.close();
    expect(existsSync(`${home}/daemon.json`)).toBe(false);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.includes(token)).toBe(false);
  });

  it('serves local clients on a mode-600 socket in the home: token still required, a killed daemon\'s socket is replaced, a live one is not', async () => {
    const { existsSync, statSync } = await import('node:fs');
    const home = tempDir();
    homes.push(home);
    const socketPath = `${home}/daemon.sock`;
    leaveDeadSocket(socketPath);
    expect(existsSync(socketPath)).toBe(true);

    const running = await startDaemon({ home, port: 0, logger: createLogger({ level: 'silent' }) });
    expect(running.home.socket).toBe(socketPath);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const token = readFileSync(`${home}/daemon.token`, 'utf8').trim();
    const overSocket = (authorization: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ socketPath, path: '/api/v1/workspaces', headers: { authorization } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await overSocket(`Bearer ${token}`)).toBe(200);
    expect(await overSocket(`Bearer ${token}x`)).toBe(401);
    await expect(startDaemon({ home, port: 0, logger: createLogger({ level: 'silent' }) })).rejects.toThrow(/another daemon is serving this home/);
    expect(await overSocket(`Bearer ${token}`)).toBe(200);
    await running.close();
    expect(existsSync(socketPath)).toBe(false);
  });
});
