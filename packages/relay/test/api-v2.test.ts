import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, LIMITS } from '@sluice/shared-protocol';
import { fakeId, NO_ANSWER, PLANNER_SCOPES, workspace } from '@sluice/test-kit';
import type { FakeConnector } from '@sluice/test-kit';
import { callVerb, connectedConnector, fakeRun, fakeStep, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

describe('/api/v2 through a fake connector', () => {
  let t: TestRelay;
  let a: Awaited<ReturnType<typeof orgWithToken>>;
  let b: Awaited<ReturnType<typeof orgWithToken>>;
  let ca: FakeConnector;
  let cb: FakeConnector;

  beforeEach(async () => {
    t = await startRelay({ requestTimeoutMs: 500 });
    a = await orgWithToken(t.store, 'org-a', PLANNER_SCOPES);
    b = await orgWithToken(t.store, 'org-b', PLANNER_SCOPES);
    ca = await connectedConnector(t, a.org.id, [workspace('ws1')]);
    cb = await connectedConnector(t, b.org.id, [workspace('ws1')]);
    for (const c of [ca, cb]) {
      const runs = new Map<string, ReturnType<typeof fakeRun>>();
      c.handlers['runs.open'] = (input) => {
        const run = fakeRun(fakeId('run'), input.workspaceId as string);
        runs.set(run.runId, run);
        return run;
      };
      c.handlers['runs.get'] = (input) => {
        const run = runs.get(input.runId as string);
        if (!run) throw Object.assign(new Error('No such run.'), { code: 'RUN_NOT_FOUND' });
        return { ...run, steps: [], extraFieldFromNewerDaemon: true };
      };
    }
  });
  afterEach(async () => {
    ca.close();
    cb.close();
    await t.close();
  });

  it('opens a run on the only instance sharing the workspace and reads it back by id, unknown keys stripped', async () => {
    const open = await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' });
    expect(open.status).toBe(200);
    const runId = open.body.runId as string;
    expect(ca.requests[0]).toMatchObject({ verb: 'runs.open', actor: `planner:${a.org.id}/${a.tokenId}`, input: { workspaceId: 'ws1' } });
    const got = await callVerb(t.url, a.token, 'runs.get', { runId });
    expect(got.status).toBe(200);
    expect(got.body.runId).toBe(runId);
    expect(got.body).not.toHaveProperty('extraFieldFromNewerDaemon');
  });

  it("org B cannot see, read or act on org A's instances and runs: same answer as a missing id", async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const missing = fakeId('run');
    const theirs = await callVerb(t.url, b.token, 'runs.get', { runId });
    const none = await callVerb(t.url, b.token, 'runs.get', { runId: missing });
    expect(theirs).toEqual(none);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('RUN_NOT_FOUND');
    const art = await callVerb(t.url, b.token, 'artifacts.get', { runId, digest: `sha256:${'0'.repeat(64)}` });
    expect(art.body.code).toBe('RUN_NOT_FOUND');
    const abort = await callVerb(t.url, b.token, 'runs.abort', { runId });
    expect(abort.body.code).toBe('RUN_NOT_FOUND');
    const openThere = await callVerb(t.url, b.token, 'runs.open', { workspaceId: 'ws1', instanceId: ca.instanceId });
    const openNowhere = await callVerb(t.url, b.token, 'runs.open', { workspaceId: 'ws1', instanceId: 'ins_01JD0000000000000000000000' });
    expect(openThere).toEqual(openNowhere);
    expect(openThere.body.code).toBe('INSTANCE_NOT_FOUND');
    const list = await callVerb(t.url, b.token, 'instances.list', {});
    expect((list.body.instances as { instanceId: string }[]).map((i) => i.instanceId)).toEqual([cb.instanceId]);
    expect(cb.requests.filter((r) => r.verb === 'runs.get' || r.verb === 'runs.abort')).toHaveLength(0);
    expect(ca.requests.map((r) => r.verb)).toEqual(['runs.open']);
  });

  it('validates input, checks scope and refuses unknown verbs before anything reaches the instance', async () => {
    const readOnly = (await t.store.createToken({ orgId: a.org.id, name: 'ro', scopes: ['runs:read'] })).secret;
    const scope = await callVerb(t.url, readOnly, 'runs.open', { workspaceId: 'ws1' });
    expect(scope.status).toBe(403);
    expect(scope.body.code).toBe('INSUFFICIENT_SCOPE');
    const bad = await callVerb(t.url, a.token, 'runs.open', { workspaceId: '../etc', shell: 'rm -rf /' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_INPUT');
    const unknown = await fetch(`${t.url}/api/v2/commands.run`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
    const notJson = await fetch(`${t.url}/api/v2/runs.open`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { code: string }).code).toBe('MALFORMED_JSON');
    const big = await fetch(`${t.url}/api/v2/runs.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workspaceId: 'ws1', title: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
    const nullBody = await fetch(`${t.url}/api/v2/instances.list`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: 'null' });
    expect(nullBody.status).toBe(400);
    const browser = await fetch(`${t.url}/api/v2/instances.list`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' });
    expect(browser.status).toBe(403);
    expect(((await browser.json()) as { code: string }).code).toBe('ORIGIN_NOT_ALLOWED');
    expect(ca.requests).toHaveLength(0);
    expect(big.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('routing: no instance sharing the workspace, several instances, an offline owner', async () => {
    expect((await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'other' })).body.code).toBe('WORKSPACE_NOT_FOUND');
    const second = await connectedConnector(t, a.org.id, [workspace('ws1')]);
    expect((await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.code).toBe('INSTANCE_AMBIGUOUS');
    second.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
    const named = await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1', instanceId: second.instanceId });
    expect(named.status).toBe(200);
    second.close();
    await new Promise((r) => setTimeout(r, 100));
    const offline = await callVerb(t.url, a.token, 'runs.get', { runId: named.body.runId });
    expect(offline.status).toBe(503);
    expect(offline.body.code).toBe('INSTANCE_OFFLINE');
  });

  it('a token with an instance allowlist reaches only those instances', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const other = await connectedConnector(t, a.org.id, [workspace('ws2')]);
    const limited = (await t.store.createToken({ orgId: a.org.id, name: 'lim', scopes: ['runs:read', 'runs:write'], instanceAllowlist: [other.instanceId] })).secret;
    expect((await callVerb(t.url, limited, 'runs.get', { runId })).body.code).toBe('RUN_NOT_FOUND');
    const list = await callVerb(t.url, limited, 'instances.list', {});
    expect((list.body.instances as { instanceId: string }[]).map((i) => i.instanceId)).toEqual([other.instanceId]);
    other.close();
  });

  it('per-request timeout, a connector error code passed through, malformed output refused', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    ca.handlers['runs.close'] = () => NO_ANSWER;
    const slow = await callVerb(t.url, a.token, 'runs.close', { runId });
    expect(slow.status).toBe(504);
    expect(slow.body.code).toBe('UPSTREAM_TIMEOUT');
    ca.handlers['runs.abort'] = () => ({ runId: 'not-a-run' });
    const wrong = await callVerb(t.url, a.token, 'runs.abort', { runId });
    expect(wrong.status).toBe(502);
    expect(wrong.body.code).toBe('UPSTREAM_ERROR');
    ca.handlers['runs.close'] = () => {
      throw Object.assign(new Error('The run still has steps that are queued or running.'), { code: 'RUN_HAS_LIVE_STEPS' });
    };
    const live = await callVerb(t.url, a.token, 'runs.close', { runId });
    expect(live).toEqual({
      status: 409,
      body: { code: 'RUN_HAS_LIVE_STEPS', message: 'The run still has steps that are queued or running.', hint: ERROR_CATALOG.RUN_HAS_LIVE_STEPS.hint, retryable: false },
    });
  });

  it('a response over the frame bound is refused and the session keeps serving', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    ca.handlers['artifacts.get'] = (_input, f) => ({
      raw: JSON.stringify({ type: 'response', id: f.id, ok: true, output: { content: 'x'.repeat(LIMITS.frameBytes + 10) } }),
    });
    const big = await callVerb(t.url, a.token, 'artifacts.get', { runId, digest: `sha256:${'a'.repeat(64)}` });
    expect(big.status).toBe(502);
    expect(big.body.code).toBe('RESPONSE_TOO_LARGE');
    expect((await callVerb(t.url, a.token, 'runs.get', { runId })).status).toBe(200);
  });

  it('requests in flight fail at once with INSTANCE_OFFLINE when the socket drops', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    ca.handlers['steps.wait'] = () => {
      setTimeout(() => ca.close(), 50);
      return NO_ANSWER;
    };
    const stepId = fakeId('stp');
    await t.store.recordOwner(a.org.id, stepId, ca.instanceId);
    const res = await callVerb(t.url, a.token, 'steps.wait', { stepId, timeoutMs: 30_000 });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('INSTANCE_OFFLINE');
    expect(runId).toBeTruthy();
  });

  it('steps.dispatch with an idempotency key dispatches once, also while the first call is in flight and after a reconnect', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    let dispatched = 0;
    const steps = new Map<string, ReturnType<typeof fakeStep>>();
    ca.handlers['steps.dispatch'] = async (input) => {
      dispatched++;
      await new Promise((r) => setTimeout(r, 100));
      const step = fakeStep(input.runId as string, fakeId('stp'), input.idempotencyKey as string);
      steps.set(step.stepId, step);
      return step;
    };
    ca.handlers['steps.get'] = (i) => ({ ...steps.get(i.stepId as string)!, gates: [], validationResults: [] });
    const input = { runId, executor: 'simulation', task: 'do it', idempotencyKey: 'k-1' };
    const [r1, r2] = await Promise.all([callVerb(t.url, a.token, 'steps.dispatch', input), callVerb(t.url, a.token, 'steps.dispatch', input)]);
    expect(r1.status).toBe(200);
    expect(r2.body).toEqual(r1.body);
    await ca.connect();
    const r3 = await callVerb(t.url, a.token, 'steps.dispatch', input);
    expect(r3.body).toEqual({ ...r1.body, replayed: true });
    expect(dispatched).toBe(1);
    const conflict = await callVerb(t.url, a.token, 'steps.dispatch', { ...input, task: 'something else' });
    expect(conflict.body.code).toBe('IDEMPOTENCY_CONFLICT');
    // The step id the dispatch returned is now routable to the same instance.
    expect((await callVerb(t.url, a.token, 'steps.get', { stepId: r1.body.stepId })).status).toBe(200);
    expect((await callVerb(t.url, b.token, 'steps.get', { stepId: r1.body.stepId })).body.code).toBe('STEP_NOT_FOUND');
  });

  it('steps.dispatch retried with the protocol defaults spelled out, in another key order, is the same dispatch', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    let dispatched = 0;
    let step: ReturnType<typeof fakeStep> | null = null;
    ca.handlers['steps.dispatch'] = (input) => {
      dispatched++;
      step = fakeStep(input.runId as string, fakeId('stp'), input.idempotencyKey as string);
      return step;
    };
    // A replay reads the step back as it is now.
    ca.handlers['steps.get'] = () => ({ ...step!, gates: [], validationResults: [] });
    const first = await callVerb(t.url, a.token, 'steps.dispatch', { runId, executor: 'simulation', task: 'do it', idempotencyKey: 'k-defaults' });
    expect(first.status).toBe(200);
    const spelled = { idempotencyKey: 'k-defaults', attempts: 1, approval: false, validations: [], task: 'do it', executor: 'simulation', runId };
    const again = await callVerb(t.url, a.token, 'steps.dispatch', spelled);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(dispatched).toBe(1);
    expect((await callVerb(t.url, a.token, 'steps.dispatch', { ...spelled, attempts: 2 })).body.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('SSE follows a run by long-polling events.list', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const ev = (cursor: number) => ({ cursor, type: 'step.queued', runId, stepId: null, attemptId: null, actor: 'system:daemon', at: '2026-11-23T10:00:00.000Z', data: {} });
    const seen: unknown[] = [];
    ca.handlers['events.list'] = (input) => {
      seen.push(input);
      const after = (input.after as number | undefined) ?? 0;
      if (after < 2) return { events: [ev(after + 1)], nextCursor: after + 1 };
      return NO_ANSWER;
    };
    const controller = new AbortController();
    const res = await fetch(`${t.url}/api/v2/runs/${runId}/events?after=0`, { headers: { authorization: `Bearer ${a.token}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('id: 2')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain('id: 1\nevent: step.queued');
    expect(seen[1]).toMatchObject({ after: 1, waitMs: 25_000 });
    const missing = await fetch(`${t.url}/api/v2/runs/${fakeId('run')}/events`, { headers: { authorization: `Bearer ${b.token}` } });
    expect(missing.status).toBe(404);
  });
});

describe('planner tokens', () => {
  let t: TestRelay;
  let now = Date.now();
  beforeEach(async () => {
    now = Date.now();
    t = await startRelay({}, { now: () => now });
  });
  afterEach(async () => {
    await t.close();
  });

  it('revoked, expired, malformed, wrong-checksum and unknown tokens are refused and audited by hash', async () => {
    const a = await orgWithToken(t.store, 'org-a', ['runs:read', 'audit:read']);
    const expiring = (await t.store.createToken({ orgId: a.org.id, name: 'exp', scopes: ['runs:read'], expiresAt: now + 1000 })).secret;
    const revoked = await t.store.createToken({ orgId: a.org.id, name: 'rev', scopes: ['runs:read'] });
    await t.store.revokeToken(revoked.record.id);
    now += 2000;
    const wrongChecksum = a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A');
    const cases: [string | undefined, string][] = [
      [undefined, 'UNAUTHENTICATED'],
      [expiring, 'TOKEN_EXPIRED'],
      [revoked.secret, 'TOKEN_REVOKED'],
      ['slc_pat_short', 'TOKEN_MALFORMED'],
      ['not-a-token', 'TOKEN_MALFORMED'],
      [wrongChecksum, 'TOKEN_MALFORMED'],
    ];
    for (const [tok, code] of cases) {
      const r = await callVerb(t.url, tok, 'instances.list', {});
      expect(r.status, code).toBe(401);
      expect(r.body.code).toBe(code);
    }
    const rows = t.store.db.prepare("SELECT outcome, detail FROM audit WHERE action = 'auth.failed' ORDER BY seq").all() as { outcome: string; detail: string }[];
    // One row per reason and source at once; repeats within the interval are counted into one later row.
    expect(rows.map((r) => r.outcome)).toEqual([...new Set(cases.map((c) => c[1]))]);
    const all = JSON.stringify(t.store.db.prepare('SELECT * FROM audit').all());
    for (const [tok] of cases) if (tok) expect(all).not.toContain(tok);
    expect((await callVerb(t.url, a.token, 'instances.list', {})).status).toBe(200);
    expect((await t.store.listTokens(a.org.id)).find((x) => x.name === 'org-a-token')?.lastUsedAt).toBe(now);
  });

  it('GET /api/v2/audit shows the own org only and needs audit:read; sign out everywhere revokes every token of the org', async () => {
    const a = await orgWithToken(t.store, 'org-a', ['runs:read', 'audit:read', 'admin']);
    const b = await orgWithToken(t.store, 'org-b', ['runs:read', 'audit:read']);
    const other = (await t.store.createToken({ orgId: a.org.id, name: 'second', scopes: ['runs:read'] })).secret;
    await callVerb(t.url, b.token, 'instances.list', {});
    await callVerb(t.url, a.token, 'instances.list', {});
    const res = await fetch(`${t.url}/api/v2/audit`, { headers: { authorization: `Bearer ${a.token}` } });
    const body = (await res.json()) as { entries: { actor: string; action: string; detail: { verb?: string } }[] };
    expect(body.entries.length).toBeGreaterThan(0);
    expect(body.entries.every((e) => e.actor.includes(a.org.id))).toBe(true);
    expect(body.entries.some((e) => e.action === 'planner.call' && e.detail.verb === 'instances.list')).toBe(true);
    const denied = await fetch(`${t.url}/api/v2/audit`, { headers: { authorization: `Bearer ${other}` } });
    expect(denied.status).toBe(403);

    const out = await fetch(`${t.url}/api/v2/admin/tokens/revoke-all`, { method: 'POST', headers: { authorization: `Bearer ${a.token}` } });
    expect(await out.json()).toEqual({ revoked: 2 });
    expect((await callVerb(t.url, other, 'instances.list', {})).body.code).toBe('TOKEN_REVOKED');
    expect((await callVerb(t.url, b.token, 'instances.list', {})).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('limits requests per token with RATE_LIMITED; another token is not affected', async () => {
    const t = await startRelay({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    try {
      const a = await orgWithToken(t.store, 'a', ['runs:read']);
      const b = await orgWithToken(t.store, 'b', ['runs:read']);
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await callVerb(t.url, a.token, 'instances.list', {})).status);
      expect(codes).toEqual([200, 200, 200, 429]);
      const limited = await callVerb(t.url, a.token, 'instances.list', {});
      expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', retryable: true, hint: expect.stringMatching(/retryAfterMs/) as string });
      expect(limited.body.retryAfterMs).toBeGreaterThan(0);
      expect(limited.body.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect((await callVerb(t.url, b.token, 'instances.list', {})).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('caps the long polls one caller holds open; a finished poll frees its place and other callers are not affected', async () => {
    const t = await startRelay({ requestTimeoutMs: 300, maxWaitingCallsPerCaller: 2 });
    const a = await orgWithToken(t.store, 'a', PLANNER_SCOPES);
    const b = await orgWithToken(t.store, 'b', PLANNER_SCOPES);
    const ca = await connectedConnector(t, a.org.id, [workspace('ws1')]);
    const cb = await connectedConnector(t, b.org.id, [workspace('ws1')]);
    try {
      const stepA = fakeId('stp');
      const stepB = fakeId('stp');
      await t.store.recordOwner(a.org.id, stepA, ca.instanceId);
      await t.store.recordOwner(b.org.id, stepB, cb.instanceId);
      let reached = 0;
      ca.handlers['steps.wait'] = () => {
        reached++;
        return NO_ANSWER;
      };
      cb.handlers['steps.wait'] = () => NO_ANSWER;
      const held = [callVerb(t.url, a.token, 'steps.wait', { stepId: stepA, timeoutMs: 700 }), callVerb(t.url, a.token, 'steps.wait', { stepId: stepA, timeoutMs: 700 })];
      await new Promise((r) => setTimeout(r, 150));
      const third = await callVerb(t.url, a.token, 'steps.wait', { stepId: stepA, timeoutMs: 700 });
      expect(third.status).toBe(429);
      expect(third.body.code).toBe('RATE_LIMITED');
      expect(reached).toBe(2);
      // Another caller still has its own places.
      const other = callVerb(t.url, b.token, 'steps.wait', { stepId: stepB, timeoutMs: 100 });
      const timedOut = await Promise.all(held);
      expect(timedOut.map((r) => r.body.code)).toEqual(['UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT']);
      expect(timedOut[0]!.body).toMatchObject({ retryable: true, retryAfterMs: 2000 });
      expect((await other).body.code).toBe('UPSTREAM_TIMEOUT');
      // Places are given back once the polls end, whatever their outcome.
      ca.handlers['steps.wait'] = () => {
        throw Object.assign(new Error('No such step.'), { code: 'STEP_NOT_FOUND' });
      };
      expect((await callVerb(t.url, a.token, 'steps.wait', { stepId: stepA, timeoutMs: 100 })).body.code).toBe('STEP_NOT_FOUND');
    } finally {
      ca.close();
      cb.close();
      await t.close();
    }
  });
});
