import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HEADERS, RELAY_PATHS, SLUICE_VERSION } from '@sluice/shared-protocol';
import { hashSecret as hashOf } from '../src/index.js';
import { FakeConnector, git } from '@sluice/test-kit';
import { callVerb, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

function selfSigned(dir: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore', shell: false },
  );
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

describe('TLS and trusted proxies', () => {
  let t: TestRelay | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    t = undefined;
  });

  it('serves HTTPS and WSS itself with --tls-cert/--tls-key, and the connector handshake works over it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-relay-tls-'));
    const tls = selfSigned(dir);
    t = await startRelay({ tls });
    const port = (t.relay.app.server.address() as { port: number }).port;
    const origin = t.relay.origin();
    expect(origin).toBe(`https://127.0.0.1:${port}`);
    const health = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/healthz', ca: tls.cert }, (res) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c.toString()));
        res.on('end', () => resolve(s));
      })
        .on('error', reject)
        .end();
    });
    // The commit of this checkout, read from its git files; a clone has no manifest.
    expect(JSON.parse(health)).toEqual({ status: 'ok', version: SLUICE_VERSION, commit: git(process.cwd(), 'rev-parse', 'HEAD'), manifestSha256: null });

    // Enrollment and challenge over HTTPS, upgrade over WSS: done with node:https and ws directly.
    const orgId = (await t.store.createOrg('acme')).id;
    const c = new FakeConnector(origin);
    const enr = await t.store.createEnrollmentToken(orgId, 60_000);
    const inst = (await t.store.enroll(hashOf(enr.secret), { name: 'x', publicKey: c.publicKeyX }))!;
    c.instanceId = inst.id;
    c.relayOrigin = origin;
    const challenge = JSON.parse(
      await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: `${RELAY_PATHS.connectorChallenge}?instanceId=${inst.id}`, ca: tls.cert }, (res) => {
          let s = '';
          res.on('data', (d: Buffer) => (s += d.toString()));
          res.on('end', () => resolve(s));
        })
          .on('error', reject)
          .end();
      }),
    ) as { nonce: string };
    const ws = new WebSocket(`wss://127.0.0.1:${port}${RELAY_PATHS.connectorSocket}`, { ca: tls.cert, headers: { [HEADERS.connectorAuth]: c.authHeader(challenge.nonce) } });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    ws.terminate();
  });

  it('audit rows carry the forwarded client IP only from a trusted proxy, never a spoofed X-Forwarded-For', async () => {
    t = await startRelay({ trustProxy: '127.0.0.1' });
    const a = await orgWithToken(t.store, 'a', ['runs:read']);
    await fetch(`${t.url}/api/v2/instances.list`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' }, body: '{}' });
    const ips = () => (t!.store.db.prepare("SELECT ip FROM audit WHERE action = 'planner.call' ORDER BY seq").all() as { ip: string }[]).map((r) => r.ip);
    expect(ips()).toEqual(['203.0.113.7']);
    await t.close();

    t = await startRelay();
    const b = await orgWithToken(t.store, 'b', ['runs:read']);
    await fetch(`${t.url}/api/v2/instances.list`, { method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' }, body: '{}' });
    expect(ips()).toEqual(['127.0.0.1']);
    const r = await callVerb(t.url, b.token, 'instances.list', {});
    expect(r.status).toBe(200);
  });
});

