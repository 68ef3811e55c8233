import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, runCli } from '../src/index.js';
import { FakeDaemon } from './helpers/fake-daemon.js';
import { FakeRelay } from '@sluice/test-kit';

describe('TLS to the relay', () => {
  let certDir: string;
  let tls: { key: string; cert: string; certPath: string };
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'sluice-connector-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    tls = { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(join(certDir, 'cert.pem'), 'utf8'), certPath: join(certDir, 'cert.pem') };
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('verifies the relay certificate: refused without --ca, trusted with --ca, then runs over wss://', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sluice-connector-'));
    const relay = await FakeRelay.start({ tls });
    const daemon = await FakeDaemon.start(home);
    cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => daemon.close(), () => relay.close());
    const env = { SLUICE_HOME: home, SLUICE_LOG_LEVEL: 'silent', PATH: process.env['PATH'] };
    const cli = async (args: string[], signal = new AbortController().signal) => {
      let out = '';
      let err = '';
      const code = await runCli(args, { env, out: (s) => (out += s), err: (s) => (err += s), signal });
      return { code, out, err };
    };
    const untrusted = await cli(['enroll', '--relay', relay.url, '--token', relay.addEnrollToken()]);
    expect(untrusted.code).toBe(EXIT_CODES.relayUnavailable);
    expect(untrusted.err).toMatch(/RELAY_UNAVAILABLE: .*(SELF_SIGNED|self-signed|certificate)/i);
    expect(relay.instances.size).toBe(0);

    const trusted = await cli(['enroll', '--relay', relay.url, '--token', relay.addEnrollToken(), '--ca', tls.certPath]);
    expect(trusted.code, trusted.err).toBe(0);
    expect((await cli(['share', 'web-app'])).code).toBe(0);
    const stop = new AbortController();
    const running = cli(['run'], stop.signal);
    const session = await relay.waitForSession(1);
    expect((await session.request('runs.list', { workspaceId: 'web-app' })).ok).toBe(true);
    stop.abort();
    expect((await running).code).toBe(0);
  });
});
