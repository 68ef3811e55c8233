import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '@sluice/shared-protocol';
import { DaemonClient, loadConnectorConfig, privateKeyObject } from '../src/index.js';
import { RelaySession } from '../src/session/relay-session.js';
import { TestEnv } from './helpers/env.js';
import { WORKSPACES } from './helpers/fake-daemon.js';

describe('RelaySession lifecycle', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function session(): Promise<RelaySession> {
    t = await TestEnv.start();
    await t.enrollAndShare();
    const config = loadConnectorConfig(t.configPath);
    return new RelaySession({
      relayBase: new URL(config.relayUrl),
      relayOrigin: config.relayOrigin,
      instanceId: config.instanceId,
      name: config.name,
      key: privateKeyObject(config.privateKey),
      daemon: new DaemonClient({ home: t.home }),
      shares: () => config.shares,
      workspaces: () => Promise.resolve(WORKSPACES),
      log: pino({ level: 'silent' }),
      handshakeTimeoutMs: 5000,
      drainMs: 1000,
    });
  }

  it('goes connecting, open, closing, closed; close() twice is one shutdown with one goodbye and the same result', async () => {
    const s = await session();
    expect(s.lifecycle).toBe('connecting');
    const stop = new AbortController();
    let welcomed!: () => void;
    const welcome = new Promise<void>((r) => (welcomed = r));
    s.onWelcome = () => welcomed();
    const ended = s.run(stop.signal);
    await welcome;
    expect(s.lifecycle).toBe('open');
    const first = s.close();
    expect(s.lifecycle).toBe('closing');
    const second = s.close();
    expect(second).toBe(first);
    stop.abort();
    const result = await ended;
    expect(await first).toBe(result);
    expect(s.lifecycle).toBe('closed');
    expect(result.welcomedAt).toBeTypeOf('number');
    expect(t!.relay.sessions[0]!.goodbyes).toHaveLength(1);
  });

  it('once the relay closed the session, close() answers the close the relay made', async () => {
    const s = await session();
    const ended = s.run(new AbortController().signal);
    const fake = await t!.relay.waitForSession(1);
    t!.relay.setState(fake.instanceId, 'disabled');
    const result = await ended;
    expect(result).toMatchObject({ closeCode: CLOSE_CODES.disabled, shutdown: false });
    expect(await s.close()).toBe(result);
    expect(s.lifecycle).toBe('closed');
  });
});
