import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, StepDetail } from '@sluice/shared-protocol';
import { freshPgDatabase, rawQuery, TcpBalancer } from '@sluice/test-kit';
import { addMachine, followEvents, HttpPlanner, RelayNode, slowFixTask, stopAll, waitUntil } from '../helpers/index.mjs';
import type { Machine, Planner } from '../helpers/index.mjs';

// Two relay processes on one PostgreSQL database behind a round-robin TCP balancer: the connector's socket lives on
// replica A, the planner talks to replica B, and A dies by SIGKILL in the middle of a run.
let dir: string;
let db: Awaited<ReturnType<typeof freshPgDatabase>>;
let lb: TcpBalancer;
let a: RelayNode;
let b: RelayNode;
let m: Machine;
let planner: Planner;

const replica = (name: string, publicUrl: string) =>
  new RelayNode(join(dir, name), { heartbeatMs: 1000, env: { SLUICE_RELAY_DB: db.url }, startArgs: ['--public-url', publicUrl] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-replicas-'));
  db = await freshPgDatabase();
  lb = new TcpBalancer([]);
  await lb.listen();
  a = replica('relay-a', lb.url);
  b = replica('relay-b', lb.url);
  await Promise.all([a.start(), b.start()]);
  // Only A in rotation while the connector connects, so its socket is on A; then both.
  lb.targets = [a.port];
  // The operator's machine knows the relay by the balancer's address only.
  const front = Object.assign(Object.create(a) as RelayNode, { url: lb.url });
  m = await addMachine(front, { dir, orgName: 'acme', workspaceId: 'tiny-math', approval: { policy: 'always', remote: true } });
  lb.targets = [a.port, b.port];
  planner = await new HttpPlanner(b.url!, m.org.plannerToken).connect();
}, 120_000);

afterAll(async () => {
  await planner?.close();
  await stopAll([
    ['connector', m?.connector],
    ['relay-a', a],
    ['relay-b', b],
    ['daemon', m?.daemon],
  ]);
  await lb?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function online(): Promise<boolean> {
  const { instances } = await planner.call('instances.list', {});
  return instances.some((i) => i.instanceId === m.connector.instanceId && i.online);
}

describe('two relay replicas on PostgreSQL', () => {
  it('survives SIGKILL of the replica holding the connector: the run goes on through B, nothing lost, repeated or dispatched twice', async () => {
    const run = await planner.call('runs.open', { workspaceId: 'tiny-math', title: 'replica failover' });
    const dispatch = { runId: run.runId, executor: 'simulation', task: slowFixTask(2500), validations: ['test'], idempotencyKey: 'failover-1' };
    const step = await planner.call('steps.dispatch', dispatch);
    const before = await followEvents(planner, {
      runId: run.runId,
      until: (e) => e.type === 'attempt.state_changed' && e.stepId === step.stepId && e.data['to'] === 'running',
    });

    expect(new Set(lb.routed)).toEqual(new Set([a.port]));
    // A stays in rotation: the balancer finds it refusing and goes on to B.
    await a.crash();
    await waitUntil(online, { timeoutMs: 30_000, what: 'the connector to come back through the balancer on B' });

    // A planner that is unsure its dispatch went through sends it again: the same step, not a second one.
    expect((await planner.call('steps.dispatch', dispatch)).stepId).toBe(step.stepId);
    const after = await followEvents(planner, {
      runId: run.runId,
      after: before.cursor,
      timeoutMs: 30_000,
      until: (e) => e.type === 'step.state_changed' && e.stepId === step.stepId && e.data['to'] === 'awaiting_approval',
    });
    const detail: StepDetail = await planner.call('steps.get', { stepId: step.stepId });
    const gate = detail.gates.find((g) => g.kind === 'approval' && g.status === 'pending')!;
    await planner.call('gates.approve', { gateId: gate.gateId });

    const seen: Event[] = [...before.events, ...after.events];
    const cursors = seen.map((e) => e.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
    const local = await m.daemon.verb('events.list', { runId: run.runId, limit: 500 });
    expect(cursors).toEqual(local.events.map((e) => e.cursor).filter((c) => c <= after.cursor));
    const runDetail = await m.daemon.verb('runs.get', { runId: run.runId });
    expect(runDetail.steps.map((s) => s.stepId)).toEqual([step.stepId]);

    // Both replicas wrote to one audit chain: the connector's session on A, then on B.
    const verify = await b.cliJson(['audit', 'verify']);
    expect(verify).toMatchObject({ ok: true, problems: [] });
    const connected = await rawQuery(db.url, "SELECT count(*)::int AS n FROM audit WHERE action = 'connector.connected'");
    expect(connected.rows[0]!.n).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
