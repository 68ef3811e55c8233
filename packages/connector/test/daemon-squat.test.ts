import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DAEMON_SOCKET_FILE } from '@sluice/shared-protocol';
import { DaemonClient, EXIT_CODES, loadConnectorConfig, saveConnectorConfig } from '../src/index.js';
import { TestEnv } from './helpers/env.js';
import { leaveKilledDaemonBehind, Stranger } from './helpers/stranger.js';

const RUN = 'run_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';

describe('a stranger on the port of a stopped daemon', () => {
  let t: TestEnv | undefined;
  let stranger: Stranger | undefined;
  afterEach(async () => {
    await stranger?.close();
    await t?.close();
    t = stranger = undefined;
  });

  async function killedDaemonWithSquatter(): Promise<{ t: TestEnv; stranger: Stranger }> {
    t = await TestEnv.start();
    await t.enrollAndShare();
    await t.daemon.close();
    stranger = await Stranger.start();
    leaveKilledDaemonBehind(t.home, stranger.url);
    expect(existsSync(join(t.home, DAEMON_SOCKET_FILE))).toBe(true);
    return { t, stranger };
  }

  it('never receives the daemon token from the connector: listing, verb calls, run and status all stay on the home socket', async () => {
    const { t, stranger } = await killedDaemonWithSquatter();
    const client = new DaemonClient({ home: t.home });
    try {
      await expect(client.listWorkspaces(['web-app'])).rejects.toMatchObject({ code: 'DAEMON_UNAVAILABLE' });
      const call = await client.callVerb('runs.get', { runId: RUN }, { actor: 'planner:p', shares: ['web-app'], timeoutMs: 2000, maxBytes: 1024 });
      expect(call).toMatchObject({ ok: false, error: { code: 'DAEMON_UNAVAILABLE' } });
    } finally {
      client.close();
    }

    const stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const s = await t.relay.waitForSession(1);
    expect((await s.request('runs.get', { runId: RUN })).error?.code).toBe('DAEMON_UNAVAILABLE');
    stop.abort();
    expect((await running).code).toBe(0);
    const status = await t.cli(['status']);
    expect(status.code).toBe(EXIT_CODES.daemonUnavailable);

    expect(stranger.headers).toEqual([]);
  });

  it('refuses a config that names a TCP daemon URL instead of sending the token there', async () => {
    const { t, stranger } = await killedDaemonWithSquatter();
    saveConnectorConfig(t.configPath, { ...loadConnectorConfig(t.configPath), daemon: { url: stranger.url } });
    const status = await t.cli(['status']);
    expect(status.code).toBe(EXIT_CODES.daemonUnavailable);
    expect(status.out).toMatch(/daemon\.url is no longer supported/);
    const discover = await t.cli(['discover']);
    expect(discover.code).toBe(EXIT_CODES.daemonUnavailable);
    expect(stranger.headers).toEqual([]);
  });
});
