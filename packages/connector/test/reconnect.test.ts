import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '@sluice/shared-protocol';
import { backoffDelay, isUnrecoverable, readState, EXIT_CODES } from '../src/index.js';
import { TestEnv } from './helpers/env.js';
import { FakeDaemon, WORKSPACES } from './helpers/fake-daemon.js';
import { waitUntil } from '@sluice/test-kit';

const RUN = 'run_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';

describe('backoff and the unrecoverable table', () => {
  it('draws uniformly from a window of base << min(n, 6), capped at 64 s', () => {
    expect(backoffDelay(0, undefined, () => 0.999)).toBe(999);
    expect(backoffDelay(3, undefined, () => 0.5)).toBe(4000);
    expect(backoffDelay(6, undefined, () => 0.999)).toBe(63_936);
    expect(backoffDelay(50, undefined, () => 0.999)).toBe(63_936);
    expect(backoffDelay(50, undefined, () => 0)).toBe(0);
  });

  it('stops on revoked, unknown, disabled, unsupported protocol and replaced; retries everything else', () => {
    expect(isUnrecoverable({ code: 'INSTANCE_REVOKED', message: '' })?.exitCode).toBe(EXIT_CODES.revoked);
    expect(isUnrecoverable({ code: 'RELAY_CLOSED', message: '', closeCode: CLOSE_CODES.revoked })?.exitCode).toBe(EXIT_CODES.revoked);
    expect(isUnrecoverable({ code: 'INSTANCE_NOT_FOUND', message: '' })?.exitCode).toBe(EXIT_CODES.instanceNotFound);
    expect(isUnrecoverable({ code: 'X', message: '', closeCode: CLOSE_CODES.disabled })?.exitCode).toBe(EXIT_CODES.disabled);
    expect(isUnrecoverable({ code: 'UNSUPPORTED_PROTOCOL_VERSION', message: '' })?.exitCode).toBe(EXIT_CODES.unsupportedProtocol);
    expect(isUnrecoverable({ code: 'X', message: '', closeCode: CLOSE_CODES.replaced })?.exitCode).toBe(EXIT_CODES.replaced);
    for (const code of ['RELAY_UNAVAILABLE', 'AUTH_FAILED', 'CLOCK_SKEW', 'HEARTBEAT_TIMEOUT', 'RELAY_CLOSED']) {
      expect(isUnrecoverable({ code, message: '' }), code).toBeUndefined();
    }
    expect(isUnrecoverable({ code: 'RELAY_CLOSED', message: '', closeCode: CLOSE_CODES.goingAway })).toBeUndefined();
    expect(isUnrecoverable({ code: 'RELAY_CLOSED', message: '', closeCode: CLOSE_CODES.heartbeatTimeout })).toBeUndefined();
  });
});

describe('connector run: losing and regaining the relay', () => {
  let t: TestEnv | undefined;
  let stop: AbortController | undefined;
  afterEach(async () => {
    stop?.abort();
    await t?.close();
    t = undefined;
  });

  it('reconnects after the socket drops mid-request, serves again, and never answers the lost request twice', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    t.daemon.handler = async (verb, body) => {
      if ((body as { runId?: string }).runId === RUN) await slow;
      return { status: 200, body: { verb, echo: body } };
    };
    stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const first = await t.relay.waitForSession(1);
    const lost = first.request('runs.get', { runId: RUN }, { id: 'req_lost' });
    await waitUntil(() => t!.daemon.active > 0, { what: 'the daemon to receive the slow call' });
    t.relay.dropAll();
    await expect(lost).rejects.toThrow(/socket closed/);

    const second = await t.relay.waitForSession(2);
    expect(second).not.toBe(first);
    expect(t.relay.upgrades.filter((u) => u.status === 101)).toHaveLength(2);
    const other = 'run_01JDQ4Z8X9V7T6S5R4Q3P2N1M1';
    const served = await second.request('runs.get', { runId: other }, { id: 'req_after' });
    expect(served).toMatchObject({ ok: true, output: { echo: { runId: other } } });

    // The daemon finishes the lost call after the socket it came on is gone: its answer is dropped, not re-sent.
    release();
    await waitUntil(() => t!.daemon.active === 0, { what: 'the daemon to finish the lost call' });
    await second.request('runs.get', { runId: other }, { id: 'req_fence' });
    expect(t.relay.responseCounts.get('req_lost')).toBeUndefined();
    expect(t.relay.responseCounts.get('req_after')).toBe(1);
    expect(t.daemon.verbCalls().filter((c) => (c.body as { runId: string }).runId === RUN)).toHaveLength(1);

    stop.abort();
    expect((await running).code).toBe(0);
  });

  it('treats a relay that goes silent for more than 2.5 heartbeats as a dead socket and reconnects', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const first = await t.relay.waitForSession(1);
    t.relay.pinging = false;
    // No close frame and no pings: only the connector's silence timer can notice.
    const second = await t.relay.waitForSession(2);
    expect(first.isClosed).toBe(true);
    t.relay.pinging = true;
    expect((await second.request('runs.get', { runId: RUN })).ok).toBe(true);
    stop.abort();
    expect((await running).code).toBe(0);
  });

  it('keeps retrying while the relay refuses with a recoverable error, and records it for status', async () => {
    t = await TestEnv.start();
    const instanceId = await t.enrollAndShare();
    const saved = t.relay.instances.get(instanceId)!.publicKey;
    // A wrong key on the relay side makes every signature fail: AUTH_FAILED is retried, not fatal.
    t.relay.instances.get(instanceId)!.publicKey = 'A'.repeat(43);
    stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    await waitUntil(() => t!.relay.upgrades.filter((u) => u.code === 'AUTH_FAILED').length >= 2, { what: 'two AUTH_FAILED upgrades' });
    const state = readState(`${t.home}/connector.state.json`);
    expect(state?.connected).toBe(false);
    expect(state?.lastError?.code).toBe('AUTH_FAILED');
    t.relay.instances.get(instanceId)!.publicKey = saved;
    await t.relay.waitForSession(1);
    stop.abort();
    expect((await running).code).toBe(0);
  });

  it('connects while the daemon is down, advertises the shares as unavailable, and re-sends hello once the daemon is back', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    await t.daemon.close();
    stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const s = await t.relay.waitForSession(1);
    expect(s.hellos[0]!.workspaces).toEqual([expect.objectContaining({ workspaceId: 'web-app', available: false })]);
    expect((await s.request('runs.get', { runId: RUN })).error?.code).toBe('DAEMON_UNAVAILABLE');
    expect((await s.request('runs.open', { workspaceId: 'web-app', title: 'x' })).error?.code).toBe('DAEMON_UNAVAILABLE');
    t.daemon = await FakeDaemon.start(t.home);
    await s.waitForHellos(2);
    expect(s.hellos[1]!.workspaces.map((w) => w.workspaceId)).toEqual(['web-app']);
    expect(s.hellos[1]!.workspaces[0]!.available).toBeUndefined();
    expect((await s.request('runs.get', { runId: RUN })).ok).toBe(true);
    stop.abort();
    expect((await running).code).toBe(0);
  });

  it('keeps the last summary the daemon gave while it is down, marked unavailable', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const s = await t.relay.waitForSession(1);
    expect(s.hellos[0]!.workspaces).toEqual([WORKSPACES[0]]);
    await t.daemon.close();
    await s.waitForHellos(2);
    expect(s.hellos[1]!.workspaces).toEqual([{ ...WORKSPACES[0], available: false }]);
    stop.abort();
    expect((await running).code).toBe(0);
    stop.abort();
    expect((await running).code).toBe(0);
  });

  it('says goodbye on shutdown', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    stop = new AbortController();
    const running = t.cli(['run'], stop.signal);
    const s = await t.relay.waitForSession(1);
    stop.abort();
    expect((await running).code).toBe(0);
    expect(s.goodbyes).toHaveLength(1);
    expect(readState(`${t.home}/connector.state.json`)).toMatchObject({ connected: false, exitCode: 0 });
  });
});
