import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '@sluice/shared-protocol';
import { FakeConnector, fakeId, NO_ANSWER, PLANNER_SCOPES, waitUntil, workspace } from '@sluice/test-kit';
import { buildRelay, PostgresRelayStore } from '../src/index.js';
import type { Relay } from '../src/index.js';
import { freshPgDatabase } from '@sluice/test-kit';
import { callVerb, fakeRun, fakeStep } from './helpers.js';

interface Replica {
  relay: Relay;
  store: PostgresRelayStore;
  url: string;
}

const PUBLIC_URL = 'http://relay.test';

async function startReplica(dbUrl: string): Promise<Replica> {
  const store = await PostgresRelayStore.open(dbUrl, { poolSize: 4 });
  const relay = await buildRelay({ store }, { publicUrl: PUBLIC_URL, requestTimeoutMs: 3000, rateLimit: { max: 100_000, timeWindowMs: 60_000 } });
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  return { relay, store, url: `http://127.0.0.1:${(relay.app.server.address() as { port: number }).port}` };
}

/** Two relays (replicas) on one PostgreSQL database, in this process; a connector enrolled through A. */
describe('replicas on one PostgreSQL database', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let a: Replica;
  let b: Replica;
  let token: string;
  let tokenId: string;
  let c: FakeConnector;
  let dispatched: number;

  beforeEach(async () => {
    db = await freshPgDatabase();
    a = await startReplica(db.url);
    b = await startReplica(db.url);
    const org = await a.store.createOrg('acme');
    const t = await a.store.createToken({ orgId: org.id, name: 'p', scopes: [...PLANNER_SCOPES] });
    token = t.secret;
    tokenId = t.record.id;
    c = new FakeConnector(a.url, [workspace('ws1')]);
    const enr = await a.store.createEnrollmentToken(org.id, 60_000);
    expect((await c.enroll(enr.secret)).ok).toBe(true);
    await c.connect();
    dispatched = 0;
    const steps = new Map<string, ReturnType<typeof fakeStep>>();
    c.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
    c.handlers['steps.dispatch'] = async (input) => {
      dispatched++;
      await new Promise((r) => setTimeout(r, 300));
      const step = fakeStep(input.runId as string, fakeId('stp'), input.idempotencyKey as string);
      steps.set(step.stepId, step);
      return step;
    };
    c.handlers['steps.get'] = (i) => ({ ...steps.get(i.stepId as string)!, gates: [], validationResults: [] });
  });
  afterEach(async () => {
    c.close();
    for (const r of [a, b]) {
      await r.relay.close();
      await r.store.close();
    }
    await db.drop();
  });

  it('routes a planner call on B to the connector on A, and lists the instance online from B', async () => {
    const run = await callVerb(b.url, token, 'runs.open', { workspaceId: 'ws1' });
    expect(run.status).toBe(200);
    expect(c.requests.map((r) => r.verb)).toEqual(['runs.open']);
    const listed = await callVerb(b.url, token, 'instances.list', {});
    expect(listed.body).toMatchObject({ instances: [{ instanceId: c.instanceId, online: true, workspaces: [{ workspaceId: 'ws1' }] }] });
  });

  it('answers UPSTREAM_TIMEOUT from B as A would, and INSTANCE_OFFLINE only when no replica holds the instance', async () => {
    c.handlers['runs.open'] = () => NO_ANSWER;
    const slow = await callVerb(b.url, token, 'runs.open', { workspaceId: 'ws1' });
    expect(slow.body.code).toBe('UPSTREAM_TIMEOUT');
    c.close();
    // Naming no instance, a missing workspace answers WORKSPACE_NOT_FOUND, as on one relay; naming it, INSTANCE_OFFLINE.
    await waitUntil(async () => (await callVerb(b.url, token, 'runs.open', { instanceId: c.instanceId, workspaceId: 'ws1' })).body.code === 'INSTANCE_OFFLINE', { what: 'INSTANCE_OFFLINE from B' });
  });

  it('hands the instance over when its connector reconnects to B: the old session closes, its call in flight fails once', async () => {
    c.handlers['runs.open'] = () => NO_ANSWER;
    const inFlight = callVerb(b.url, token, 'runs.open', { workspaceId: 'ws1' });
    await waitUntil(() => c.requests.length === 1, { what: 'the call to reach the connector on A' });
    const again = new FakeConnector(b.url, [workspace('ws1')], { instanceId: c.instanceId, privateKey: c.privateKey, relayOrigin: c.relayOrigin });
    again.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
    await again.connect();
    try {
      expect((await inFlight).body.code).toBe('INSTANCE_OFFLINE');
      await waitUntil(() => c.closeCode === CLOSE_CODES.replaced, { what: 'A to close the replaced session' });
      expect((await callVerb(a.url, token, 'runs.open', { workspaceId: 'ws1' })).status).toBe(200);
      expect(again.requests).toHaveLength(1);
      const replaced = (await a.store.listAudit(c.orgId, { limit: 100 })).filter((r) => r.action === 'connector.session_replaced');
      expect(replaced).toHaveLength(1);
    } finally {
      again.close();
    }
  });

  it('closes the session on A when the instance is revoked through B (the CLI or the admin API there)', async () => {
    await b.store.setInstanceState(c.instanceId, 'revoked');
    await b.relay.live.instanceChanged(c.instanceId);
    await waitUntil(() => c.closeCode === CLOSE_CODES.revoked, { what: 'A to close the revoked instance session', timeoutMs: 3000 });
  });

  it('dispatches an idempotent step once when the same key arrives on both replicas at once', async () => {
    const runId = (await callVerb(a.url, token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const input = { runId, executor: 'simulation', task: 't', idempotencyKey: 'same-key' };
    const [x, y] = await Promise.all([callVerb(a.url, token, 'steps.dispatch', input), callVerb(b.url, token, 'steps.dispatch', input)]);
    expect([x.status, y.status]).toEqual([200, 200]);
    expect(x.body.stepId).toBe(y.body.stepId);
    expect(dispatched).toBe(1);
  });

  it('refuses a token revoked through A on B within the cache bound, and keeps one audit chain for both', async () => {
    expect((await callVerb(b.url, token, 'instances.list', {})).status).toBe(200);
    expect(await a.store.revokeToken(tokenId)).toBe(true);
    await waitUntil(async () => (await callVerb(b.url, token, 'instances.list', {})).status === 401, { what: 'B to refuse the revoked token', timeoutMs: 2000 });
    await Promise.all([a.store.flushAudit(), b.store.flushAudit()]);
    expect(await a.store.verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });
});
