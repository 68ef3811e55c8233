import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliResult } from './helpers/env.js';
import { TestEnv } from './helpers/env.js';
import type { FakeSession } from '@sluice/test-kit';
import { waitUntil } from '@sluice/test-kit';

const RUN = 'run_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';

describe('connector proxy: allowlist before the daemon', () => {
  let t: TestEnv;
  let stop: AbortController;
  let running: Promise<CliResult>;
  let session: FakeSession;

  beforeEach(async () => {
    t = await TestEnv.start();
    await t.enrollAndShare(['web-app']);
    stop = new AbortController();
    running = t.cli(['run'], stop.signal);
    session = await t.relay.waitForSession(1);
  });

  afterEach(async () => {
    stop.abort();
    await running;
    await t.close();
  });

  it('authenticates with a signed challenge and advertises only shared workspaces with executor and validation names', () => {
    expect(t.relay.upgrades).toEqual([{ status: 101 }]);
    const hello = session.hellos[0]!;
    expect(hello.workspaces.map((w) => w.workspaceId)).toEqual(['web-app']);
    expect(hello.workspaces[0]!.executors).toEqual(['sim', 'claude']);
    expect(hello.workspaces[0]!.validations).toEqual(['test', 'lint']);
    expect(hello.name).toBe('test-box');
    // Not sent: a 0.1.0 relay checks the hello's keys before its protocol version, so it would answer INVALID_INPUT
    // instead of UNSUPPORTED_PROTOCOL_VERSION (test/compat/old-peers.test.ts).
    expect(hello).not.toHaveProperty('connectorBuild');
  });

  it('forwards an allowed verb with the daemon token, the actor and the share list, and returns the output', async () => {
    const res = await session.request('runs.open', { workspaceId: 'web-app', title: 'fix it' }, { actor: 'planner:org_a/tok_b' });
    expect(res).toMatchObject({ ok: true, output: { verb: 'runs.open', echo: { workspaceId: 'web-app', title: 'fix it' } } });
    const calls = t.daemon.verbCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toBe('/api/v1/verbs/runs.open');
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${t.daemon.token}`);
    expect(calls[0]!.headers['x-sluice-actor']).toBe('planner:org_a/tok_b');
    expect(calls[0]!.headers['x-sluice-shared-workspaces']).toBe('web-app');
  });

  it('refuses verbs outside the table (and instances.list) without reaching the daemon', async () => {
    for (const verb of ['shell.exec', 'instances.list', '__proto__', 'runs.open.extra']) {
      const res = await session.request(verb, {});
      expect(res.ok).toBe(false);
      expect(res.error?.code).toBe('UNKNOWN_VERB');
    }
    expect(t.daemon.verbCalls()).toEqual([]);
  });

  it('answers an unshared or unknown workspace exactly like a missing one, without reaching the daemon', async () => {
    for (const workspaceId of ['secret-repo', 'nope']) {
      const res = await session.request('runs.open', { workspaceId });
      expect(res.error?.code).toBe('WORKSPACE_NOT_FOUND');
    }
    const listed = await session.request('runs.list', { workspaceId: 'secret-repo' });
    expect(listed.error?.code).toBe('WORKSPACE_NOT_FOUND');
    expect(t.daemon.verbCalls()).toEqual([]);
  });

  it('refuses input that fails the verb schema with details, without reaching the daemon', async () => {
    const bad = [
      ['runs.get', { runId: 'not-an-id' }],
      ['runs.get', { runId: RUN, extra: true }],
      ['steps.dispatch', { runId: RUN, executor: '../../bin/sh', task: 'x' }],
      ['artifacts.get', { runId: RUN, digest: 'sha256:00', length: 10 * 1024 * 1024 }],
      ['runs.open', 'just a string'],
    ] as const;
    for (const [verb, input] of bad) {
      const res = await session.request(verb, input);
      expect(res.error?.code, verb).toBe('INVALID_INPUT');
      expect(res.error?.details?.length ?? 0, verb).toBeGreaterThan(0);
    }
    expect(t.daemon.verbCalls()).toEqual([]);
  });

  it('refuses a relay request that claims to be a local operator or the system', async () => {
    for (const actor of ['local:root', 'system:daemon']) {
      const res = await session.request('runs.open', { workspaceId: 'web-app' }, { actor });
      expect(res.error?.code, actor).toBe('FORBIDDEN');
    }
    expect((await session.request('runs.open', { workspaceId: 'web-app' }, { actor: 'oauth:https://issuer/sub-1' })).ok).toBe(true);
    expect(t.daemon.verbCalls()).toHaveLength(1);
  });

  it('answers a malformed request frame with an error and never forwards it', async () => {
    const reply = new Promise((resolve) => session.ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString('utf8')))));
    session.send({ type: 'request', id: 'req_bad', verb: 'runs.get', input: { runId: RUN }, actor: 'root', deadlineMs: 1000 });
    await expect(reply).resolves.toMatchObject({ type: 'response', id: 'req_bad', ok: false, error: { code: 'INVALID_INPUT' } });
    expect(t.daemon.verbCalls()).toEqual([]);
  });

  it('passes daemon errors through with their code', async () => {
    t.daemon.handler = () => ({ status: 404, body: { code: 'RUN_NOT_FOUND', message: 'No such run.' } });
    const res = await session.request('runs.get', { runId: RUN });
    expect(res).toMatchObject({ ok: false, error: { code: 'RUN_NOT_FOUND' } });
  });

  it("passes a daemon error's allowed values, hint and retry fields through unchanged", async () => {
    const error = { code: 'EXECUTOR_NOT_ALLOWED', message: 'no such executor', hint: 'pick sim', retryable: false, allowed: ['sim', 'claude'] };
    t.daemon.handler = () => ({ status: 422, body: error });
    const res = await session.request('steps.dispatch', { runId: RUN, executor: 'gpt', task: 'x' });
    expect(res.ok).toBe(false);
    expect(res.error).toEqual(error);
  });

  it('serves many requests concurrently over the one socket, each answered exactly once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.daemon.handler = async (verb, body) => {
      await gate;
      return { status: 200, body: { verb, echo: body } };
    };
    const ids = Array.from({ length: 8 }, (_, i) => `req_c${i}`);
    const pending = ids.map((id) => session.request('runs.get', { runId: RUN }, { id }));
    await waitUntil(() => t.daemon.active >= ids.length, { what: 'every request to reach the daemon' });
    expect(t.daemon.maxActive).toBe(ids.length);
    release();
    const all = await Promise.all(pending);
    expect(all.every((r) => r.ok)).toBe(true);
    for (const id of ids) expect(t.relay.responseCounts.get(id)).toBe(1);
  });

  it('times out a slow daemon call within the request deadline with UPSTREAM_TIMEOUT', async () => {
    t.daemon.handler = async () => {
      await new Promise((r) => setTimeout(r, 3000));
      return { status: 200, body: {} };
    };
    const res = await session.request('steps.wait', { stepId: 'stp_01JDQ4Z8X9V7T6S5R4Q3P2N1M0' }, { deadlineMs: 600 });
    expect(res.error?.code).toBe('UPSTREAM_TIMEOUT');
  });

  it('bounds the response size with RESPONSE_TOO_LARGE', async () => {
    t.daemon.handler = () => ({ status: 200, body: { content: 'x'.repeat(3 * 1024 * 1024) } });
    const res = await session.request('artifacts.list', { runId: RUN });
    expect(res.error?.code).toBe('RESPONSE_TOO_LARGE');
  });

  it('answers DAEMON_UNAVAILABLE when the daemon is down', async () => {
    await t.daemon.close();
    const res = await session.request('runs.get', { runId: RUN });
    expect(res.error?.code).toBe('DAEMON_UNAVAILABLE');
  });

  it('answers relay pings with pongs', async () => {
    await waitUntil(() => session.pongs > 0, { what: 'a pong from the connector' });
    expect(session.pongs).toBeGreaterThan(0);
  });

  it('re-sends hello when the share list changes while running', async () => {
    const r = await t.cli(['share', 'secret-repo']);
    expect(r.code).toBe(0);
    await session.waitForHellos(2);
    expect(session.hellos[1]!.workspaces.map((w) => w.workspaceId).sort()).toEqual(['secret-repo', 'web-app']);
    const res = await session.request('runs.open', { workspaceId: 'secret-repo' });
    expect(res.ok).toBe(true);
    expect(t.daemon.verbCalls()[0]!.headers['x-sluice-shared-workspaces']).toBe('web-app,secret-repo');
  });
});
