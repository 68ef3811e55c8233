import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Event, StepDetail } from '@sluice/shared-protocol';
import { HttpPlanner, McpPlanner, PlannerError, followEvents, git, slowFixTask, startStack, waitUntil } from '../helpers/index.mjs';
import type { Planner, Stack } from '../helpers/index.mjs';

const slowFix = slowFixTask;

let stack: Stack;
let planner: Planner;

beforeAll(async () => {
  stack = await startStack({ approval: { policy: 'always', remote: true }, heartbeatMs: 1000 });
  planner = await new HttpPlanner(stack.relay.url!, stack.org.plannerToken).connect();
}, 60_000);

afterAll(async () => {
  await planner?.close();
  await stack?.stop();
}, 60_000);

// Each test starts from a whole stack, whatever the previous one left behind.
beforeEach(async () => {
  if (!stack.daemon.proc?.running) await stack.daemon.start();
  if (!stack.relay.proc?.running) await stack.relay.start();
  if (!stack.connector.proc?.running) await stack.connector.start();
  await waitOnline(true);
}, 60_000);

async function waitOnline(online: boolean) {
  await waitUntil(
    async () => {
      const { instances } = await planner.call('instances.list', {});
      return instances.some((i) => i.instanceId === stack.connector.instanceId && i.online === online);
    },
    { timeoutMs: 20_000, what: `the instance to be ${online ? 'online' : 'offline'} at the relay` },
  );
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof PlannerError ? err.code : `no error (${String(err)})`;
}

async function untilRunning(runId: string, stepId: string, after = 0) {
  return followEvents(planner, {
    runId,
    after,
    until: (e) => e.type === 'attempt.state_changed' && e.stepId === stepId && e.data['to'] === 'running',
  });
}

async function untilSettled(runId: string, stepId: string, after: number, p: Planner = planner) {
  const res = await followEvents(p, {
    runId,
    after,
    timeoutMs: 25_000,
    until: (e) => e.type === 'step.state_changed' && e.stepId === stepId && ['awaiting_approval', 'succeeded', 'failed', 'cancelled'].includes(String(e.data['to'])),
  });
  const step: StepDetail = await p.call('steps.get', { stepId });
  return { step, ...res };
}

describe('restarts in the middle of a run', () => {
  it('the connector crashes mid-run: the planner gets INSTANCE_OFFLINE, then the run carries on after it restarts', async () => {
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'connector restart' });
    const step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: slowFix(1500), validations: ['test'], idempotencyKey: 'k1' });
    const r = await untilRunning(run.runId, step.stepId);

    await stack.connector.crash();
    expect(await codeOf(planner.call('runs.get', { runId: run.runId }))).toBe('INSTANCE_OFFLINE');
    await waitOnline(false);

    await stack.connector.start();
    await waitOnline(true);
    // The daemon kept working while its connector was away; the planner resumes from its cursor.
    const s = await untilSettled(run.runId, step.stepId, r.cursor);
    expect(s.step.state).toBe('awaiting_approval');
    // The same idempotency key after the reconnect still does not dispatch twice.
    const again = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: slowFix(1500), validations: ['test'], idempotencyKey: 'k1' });
    expect(again.stepId).toBe(step.stepId);
    expect((await planner.call('runs.get', { runId: run.runId })).steps).toHaveLength(1);

    const gate = s.step.gates.find((g) => g.kind === 'approval' && g.status === 'pending')!;
    await planner.call('gates.approve', { gateId: gate.gateId });
    const done = await planner.call('steps.wait', { stepId: step.stepId, timeoutMs: 10_000 });
    expect(done.state).toBe('succeeded');
  }, 60_000);

  it('the daemon is killed mid-attempt: the attempt is interrupted, the step can be retried', async () => {
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'daemon restart' });
    const runRef = `refs/heads/${run.branch.replace(/^refs\/heads\//, '')}`;
    const step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: slowFix(2000), validations: ['test'] });
    const r = await untilRunning(run.runId, step.stepId);
    const first = (await planner.call('steps.get', { stepId: step.stepId })).attempts[0]!;

    await stack.daemon.crash();
    expect(await codeOf(planner.call('runs.get', { runId: run.runId }))).toBe('DAEMON_UNAVAILABLE');

    await stack.daemon.start();
    const interrupted = await waitUntil(
      async () => {
        const a = await planner.call('attempts.get', { attemptId: first.attemptId });
        return a.state === 'interrupted' ? a : undefined;
      },
      { timeoutMs: 20_000, what: 'the attempt to be marked interrupted' },
    );
    expect(interrupted.endedAt).not.toBeNull();
    const afterCrash = await planner.call('steps.get', { stepId: step.stepId });
    expect(['failed', 'cancelled']).toContain(afterCrash.state);
    expect(await git(stack.repo.path, ['rev-parse', runRef])).toBe(run.baseCommit);

    // Resume following after what the crash recovery recorded, then retry from there.
    const recovered = await planner.call('events.list', { runId: run.runId, after: r.cursor, limit: 500 });
    expect(recovered.events.some((e) => e.attemptId === first.attemptId && e.data['to'] === 'interrupted')).toBe(true);
    const retried = await planner.call('steps.retry', { stepId: step.stepId });
    expect(retried.stepId).toBe(step.stepId);
    const s = await untilSettled(run.runId, step.stepId, recovered.nextCursor);
    expect(s.step.state).toBe('awaiting_approval');
    const gate = s.step.gates.find((g) => g.kind === 'approval' && g.status === 'pending')!;
    await planner.call('gates.approve', { gateId: gate.gateId });
    const done = await planner.call('steps.wait', { stepId: step.stepId, timeoutMs: 10_000 });
    expect(done.state).toBe('succeeded');
    expect(done.acceptedAttemptId).not.toBe(first.attemptId);
    expect(await git(stack.repo.path, ['rev-parse', runRef])).toBe(done.attempts.find((a) => a.attemptId === done.acceptedAttemptId)!.commit);
  }, 60_000);

  it('the daemon stays down: the relay still lists the shared workspace, marked unavailable, and answers DAEMON_UNAVAILABLE', async () => {
    await stack.daemon.stop();
    // A connector that comes up (or refreshes its hello) while the daemon is down must not withdraw the workspace.
    await stack.connector.stop();
    await stack.connector.start();
    const listed = await waitUntil(
      async () => {
        const { instances } = await planner.call('instances.list', {});
        const ws = instances.find((i) => i.instanceId === stack.connector.instanceId)?.workspaces.find((w) => w.workspaceId === stack.workspaceId);
        return ws?.available === false ? ws : undefined;
      },
      { timeoutMs: 20_000, what: 'the workspace to be listed as unavailable' },
    );
    expect(listed.workspaceId).toBe(stack.workspaceId);
    expect(await codeOf(planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'daemon down' }))).toBe('DAEMON_UNAVAILABLE');
    expect(await codeOf(planner.call('runs.open', { workspaceId: 'never-shared', title: 'x' }))).toBe('WORKSPACE_NOT_FOUND');

    await stack.daemon.start();
    await waitUntil(
      async () => {
        const { instances } = await planner.call('instances.list', {});
        return instances.find((i) => i.instanceId === stack.connector.instanceId)?.workspaces.some((w) => w.workspaceId === stack.workspaceId && w.available !== false);
      },
      { timeoutMs: 40_000, what: 'the workspace to be available again' },
    );
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'daemon back' });
    expect(run.workspaceId).toBe(stack.workspaceId);
  }, 90_000);

  it('the relay restarts: the connector reconnects and the planner resumes following events from its cursor', async () => {
    const mcp = await new McpPlanner(stack.relay.url!, stack.org.plannerToken).connect();
    try {
      const run = await mcp.call('runs.open', { workspaceId: stack.workspaceId, title: 'relay restart' });
      const step = await mcp.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: slowFix(2500), validations: ['test'] });
      const before = await followEvents(mcp, {
        runId: run.runId,
        until: (e) => e.type === 'attempt.state_changed' && e.stepId === step.stepId && e.data['to'] === 'running',
      });

      const stopped = await stack.relay.stop();
      expect(stopped?.clean).toBe(true);
      await stack.relay.start();
      await waitOnline(true);

      const after = await untilSettled(run.runId, step.stepId, before.cursor, mcp);
      expect(after.step.state).toBe('awaiting_approval');
      // Nothing was lost or repeated across the restart: the events the planner saw are the daemon's, in order.
      const seen: Event[] = [...before.events, ...after.events];
      const cursors = seen.map((e) => e.cursor);
      expect(new Set(cursors).size).toBe(cursors.length);
      expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
      const local = await stack.daemon.verb('events.list', { runId: run.runId, limit: 500 });
      expect(cursors).toEqual(local.events.map((e) => e.cursor).filter((c) => c <= after.cursor));
    } finally {
      await mcp.close();
    }
  }, 60_000);
});
