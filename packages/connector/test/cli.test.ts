import { createPrivateKey } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CLOSE_CODES, SLUICE_VERSION } from '@sluice/shared-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/index.js';
import { TestEnv } from './helpers/env.js';
import { git, waitUntil } from '@sluice/test-kit';

describe('sluice-connector CLI', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('enroll registers only the public key and writes a mode-600 config holding the private key', async () => {
    t = await TestEnv.start();
    const token = t.relay.addEnrollToken();
    const r = await t.cli(['enroll', '--relay', t.relay.url, '--token', token, '--name', 'box', '--json']);
    expect(r.code).toBe(0);
    const { instanceId } = JSON.parse(r.out) as { instanceId: string };
    expect(statSync(t.configPath).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(t.configPath, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ instanceId, relayOrigin: t.relay.origin, shares: [] });
    expect(String(config['privateKey'])).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const sent = t.relay.enrollBodies[0] as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual(['name', 'publicKey', 'token']);
    expect(JSON.stringify(sent)).not.toContain('PRIVATE');
    // The token is single use: a second enroll (forced) with it is refused with the relay's code.
    const again = await t.cli(['enroll', '--relay', t.relay.url, '--token', token, '--force']);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('ENROLLMENT_TOKEN_INVALID');
    // Without --force an existing identity is never overwritten.
    const noForce = await t.cli(['enroll', '--relay', t.relay.url, '--token', t.relay.addEnrollToken()]);
    expect(noForce.code).toBe(EXIT_CODES.usage);
    expect(noForce.err).toContain('ALREADY_ENROLLED');
  });

  it('refuses plain text to a non-loopback relay unless --insecure', async () => {
    t = await TestEnv.start();
    const r = await t.cli(['enroll', '--relay', 'http://relay.example.com', '--token', 'slc_enr_abc']);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.err).toMatch(/INSECURE_RELAY_URL.*https:\/\//);
    const ws = await t.cli(['enroll', '--relay', 'ws://10.1.2.3:8080', '--token', 'slc_enr_abc']);
    expect(ws.err).toContain('INSECURE_RELAY_URL');
  });

  it('refuses a config readable by group or others (mode 644) with a clear message and its exit code', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    chmodSync(t.configPath, 0o644);
    for (const cmd of [['run'], ['list'], ['share', 'web-app'], ['status']]) {
      const r = await t.cli(cmd);
      expect(r.code, cmd.join(' ')).toBe(EXIT_CODES.configInsecure);
      expect(r.err + r.out, cmd.join(' ')).toContain(`chmod 600 ${t.configPath}`);
    }
    expect(t.relay.upgrades).toEqual([]);
  });

  it('run stops with a clear message and the revoked exit code when the relay revokes the instance', async () => {
    t = await TestEnv.start();
    const instanceId = await t.enrollAndShare();
    const running = t.cli(['run']);
    await t.relay.waitForSession(1);
    t.relay.setState(instanceId, 'revoked');
    const r = await running;
    expect(r.code).toBe(EXIT_CODES.revoked);
    expect(r.err).toMatch(/INSTANCE_REVOKED: .*enroll again/);
    // And it does not loop: a later run is refused at the upgrade and exits the same way.
    const again = await t.cli(['run']);
    expect(again.code).toBe(EXIT_CODES.revoked);
    expect(t.relay.upgrades.at(-1)).toEqual({ status: 401, code: 'INSTANCE_REVOKED' });
    const status = await t.cli(['status']);
    expect(status.out).toContain('INSTANCE_REVOKED');
  });

  it('run stops on an unknown instance and on a disabled one, each with its own exit code', async () => {
    t = await TestEnv.start();
    const instanceId = await t.enrollAndShare();
    t.relay.setState(instanceId, 'disabled');
    const disabled = await t.cli(['run']);
    expect(disabled.code).toBe(EXIT_CODES.disabled);
    expect(disabled.err).toContain('INSTANCE_DISABLED');
    t.relay.instances.delete(instanceId);
    const unknown = await t.cli(['run']);
    expect(unknown.code).toBe(EXIT_CODES.instanceNotFound);
    expect(unknown.err).toContain('INSTANCE_NOT_FOUND');
  });

  it('run stops on an unsupported protocol version and on being replaced by another session', async () => {
    t = await TestEnv.start();
    const instanceId = await t.enrollAndShare();
    t.relay.refuseVersion = true;
    const old = await t.cli(['run']);
    expect(old.code).toBe(EXIT_CODES.unsupportedProtocol);
    expect(old.err).toMatch(/UNSUPPORTED_PROTOCOL_VERSION: .*upgrade the connector/);
    t.relay.refuseVersion = false;
    const running = t.cli(['run']);
    const s = await t.relay.waitForSession(2);
    expect(s.instanceId).toBe(instanceId);
    s.ws.close(CLOSE_CODES.replaced, 'replaced');
    const replaced = await running;
    expect(replaced.code).toBe(EXIT_CODES.replaced);
  });

  it('accepts a private key stored as a JWK', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    const config = JSON.parse(readFileSync(t.configPath, 'utf8')) as { privateKey: string };
    const jwk = createPrivateKey(config.privateKey).export({ format: 'jwk' });
    writeFileSync(t.configPath, JSON.stringify({ ...config, privateKey: jwk }), { mode: 0o600 });
    const stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const s = await t.relay.waitForSession(1);
    expect(s.hellos[0]!.workspaces.map((w) => w.workspaceId)).toEqual(['web-app']);
    stop.abort();
    expect((await running).code).toBe(0);
  });

  it('share checks the daemon, discover marks shared workspaces, unshare removes one', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare([]);
    const missing = await t.cli(['share', 'does-not-exist']);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('WORKSPACE_NOT_FOUND');
    expect((await t.cli(['share', 'web-app'])).code).toBe(0);
    const d = await t.cli(['discover', '--json']);
    const rows = (JSON.parse(d.out) as { workspaces: Array<{ workspaceId: string; shared: boolean }> }).workspaces;
    expect(rows.map((w) => [w.workspaceId, w.shared])).toEqual([
      ['web-app', true],
      ['secret-repo', false],
    ]);
    expect(JSON.parse((await t.cli(['list', '--json'])).out)).toMatchObject({ shares: ['web-app'] });
    expect((await t.cli(['unshare', 'web-app'])).code).toBe(0);
    expect(JSON.parse((await t.cli(['list', '--json'])).out)).toMatchObject({ shares: [] });
    expect(statSync(t.configPath).mode & 0o777).toBe(0o600);
  });

  it('status explains a down daemon and names the command that starts it', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    await t.daemon.close();
    const r = await t.cli(['status']);
    expect(r.code).toBe(EXIT_CODES.daemonUnavailable);
    expect(r.out).toMatch(/DAEMON_UNAVAILABLE: the daemon is not running .*start it with `sluice daemon start`/);
    expect(r.out).not.toContain('`sluice start`');
    const discover = await t.cli(['discover']);
    expect(discover.code).toBe(EXIT_CODES.daemonUnavailable);
    expect(discover.err).toContain('`sluice daemon start`');
    expect(discover.err).not.toContain('`sluice start`');
  });

  it('status explains a down relay, and says what this connector runs', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    await t.relay.close();
    const r = await t.cli(['status', '--json']);
    expect(r.code).toBe(EXIT_CODES.relayUnavailable);
    const report = JSON.parse(r.out) as { relayReachable: boolean; daemon: { reachable: boolean }; problems: string[] };
    expect(report).toMatchObject({ version: SLUICE_VERSION, commit: git(process.cwd(), 'rev-parse', 'HEAD'), manifestSha256: null });
    expect(report.relayReachable).toBe(false);
    expect(report.daemon.reachable).toBe(true);
    expect(report.problems.join('\n')).toMatch(/RELAY_UNAVAILABLE: the relay at http:\/\/127\.0\.0\.1:\d+ is not reachable/);
  });

  it('status says all good while run is connected, and explains what is missing when not enrolled', async () => {
    t = await TestEnv.start();
    const none = await t.cli(['status']);
    expect(none.code).toBe(EXIT_CODES.configInvalid);
    expect(none.out).toContain('sluice-connector enroll');
    await t.enrollAndShare();
    const stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    await t.relay.waitForSession(1);
    await waitUntil(async () => JSON.parse((await t!.cli(['status', '--json'])).out).connected, { what: 'status --json to say connected' });
    const r = await t.cli(['status']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/connected: +yes/);
    expect(r.out).toContain('all good');
    stop.abort();
    await running;
    const after = await t.cli(['status']);
    expect(after.code).toBe(EXIT_CODES.failure);
    expect(after.out).toContain('the connector is not running');
  });

  it('has --help on every command', async () => {
    t = await TestEnv.start();
    for (const cmd of ['enroll', 'share', 'unshare', 'discover', 'list', 'status', 'run']) {
      const r = await t.cli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toContain(`Usage: sluice-connector ${cmd}`);
    }
  });
});
