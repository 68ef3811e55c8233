import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, StepDetail } from '@sluice/shared-protocol';
import { rawQuery } from '@sluice/test-kit';
import { followEvents, HttpPlanner, slowFixTask, waitUntil } from '../helpers/index.mjs';
import type { Planner } from '../helpers/index.mjs';
import { startReplicaStack, type ReplicaStack } from '../helpers/replica-stack.js';

// Two relay processes on one PostgreSQL database behind a round-robin TCP balancer: the connector's socket lives on
// replica A, the planner talks to replica B, and A dies by SIGKILL in the middle of a run.
let s: ReplicaStack;
let planner: Planner;

beforeAll(async () => {
  s = await startReplicaStack({ approval: { policy: 'always', remote: true } });
  planner = await new HttpPlanner(s.b.url!, s.machine.org.plannerToken).connect();
}, 120_000);

afterAll(async () => {
  await planner?.close();
  await s?.stop();
}, 60_000);

async function online(): Promise<boolean> {
  const { instances } = await planner.call('instances.list', {});
  return instances.some((i) => i.instanceId === s.machine.connector.instanceId && i.online);
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

    expect(new Set(s.lb.routed)).toEqual(new Set([s.a.port]));
    // A stays in rotation: the balancer finds it refusing and goes on to B.
    await s.a.crash();
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
    const local = await s.machine.daemon.verb('events.list', { runId: run.runId, limit: 500 });
    expect(cursors).toEqual(local.events.map((e) => e.cursor).filter((c) => c <= after.cursor));
    const runDetail = await s.machine.daemon.verb('runs.get', { runId: run.runId });
    expect(runDetail.steps.map((s) => s.stepId)).toEqual([step.stepId]);

    // Both replicas wrote to one audit chain: the connector's session on A, then on B.
    const verify = await s.b.cliJson(['audit', 'verify']);
    expect(verify).toMatchObject({ ok: true, problems: [] });
    const connected = await rawQuery(s.db.url, "SELECT count(*)::int AS n FROM audit WHERE action = 'connector.connected'");
    expect(connected.rows[0]!.n).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
