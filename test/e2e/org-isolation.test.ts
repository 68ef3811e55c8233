import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX_TASK, HttpPlanner, McpPlanner, PlannerError, RelayNode, addMachine, followEvents, stopAll } from '../helpers/index.mjs';
import type { Machine, Planner } from '../helpers/index.mjs';

let dir: string;
let relay: RelayNode;
let a: Machine;
let b: Machine;
let plannerA: Planner;
let plannerB: Planner;
let mcpB: Planner;
/** Ids from org A's run that org B tries to reach. */
const A: { runId: string; stepId: string; attemptId: string; gateId: string; digest: string } = { runId: '', stepId: '', attemptId: '', gateId: '', digest: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-orgs-'));
  relay = new RelayNode(join(dir, 'relay-home'));
  await relay.start();
  // Two machines, two orgs, one relay; both share a workspace with the same name.
  a = await addMachine(relay, { dir: join(dir, 'a'), orgName: 'org-a', workspaceId: 'tiny-math' });
  b = await addMachine(relay, { dir: join(dir, 'b'), orgName: 'org-b', workspaceId: 'tiny-math' });
  plannerA = await new HttpPlanner(relay.url!, a.org.plannerToken).connect();
  plannerB = await new HttpPlanner(relay.url!, b.org.plannerToken).connect();
  mcpB = await new McpPlanner(relay.url!, b.org.plannerToken).connect();

  const run = await plannerA.call('runs.open', { workspaceId: 'tiny-math', title: 'org A secret work' });
  const step = await plannerA.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'] });
  await followEvents(plannerA, {
    runId: run.runId,
    timeoutMs: 20_000,
    until: (e) => e.type === 'step.state_changed' && e.stepId === step.stepId && e.data['to'] === 'awaiting_approval',
  });
  const detail = await plannerA.call('steps.get', { stepId: step.stepId });
  const attemptId = detail.attempts[0]!.attemptId;
  const { artifacts } = await plannerA.call('artifacts.list', { runId: run.runId, attemptId });
  Object.assign(A, {
    runId: run.runId,
    stepId: step.stepId,
    attemptId,
    gateId: detail.gates.find((g) => g.kind === 'approval')!.gateId,
    digest: artifacts.find((x) => x.kind === 'diff')!.digest,
  });
}, 90_000);

afterAll(async () => {
  await plannerA?.close();
  await plannerB?.close();
  await mcpB?.close();
  await stopAll([
    ['connector-a', a?.connector],
    ['connector-b', b?.connector],
    ['relay', relay],
    ['daemon-a', a?.daemon],
    ['daemon-b', b?.daemon],
  ]);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof PlannerError ? err.code : `no error (${String(err)})`;
}

/** A well-formed id that exists nowhere, to compare answers with. */
const missing = (prefix: string) => `${prefix}_${'0'.repeat(26)}`;

describe('org isolation across two connectors of two orgs on one relay', () => {
  it('each org sees only its own instance', async () => {
    const seenByA = (await plannerA.call('instances.list', {})).instances.map((i) => i.instanceId);
    const seenByB = (await plannerB.call('instances.list', {})).instances.map((i) => i.instanceId);
    expect(seenByA).toEqual([a.connector.instanceId]);
    expect(seenByB).toEqual([b.connector.instanceId]);
  });

  it("org A's run, step, attempt, gate and artifact answer org B exactly like ids that do not exist", async () => {
    for (const p of [plannerB, mcpB]) {
      expect(await refusal(p.call('runs.get', { runId: A.runId }))).toBe(await refusal(p.call('runs.get', { runId: missing('run') })));
      expect(await refusal(p.call('runs.get', { runId: A.runId }))).toBe('RUN_NOT_FOUND');
      expect(await refusal(p.call('events.list', { runId: A.runId }))).toBe('RUN_NOT_FOUND');
      expect(await refusal(p.call('artifacts.get', { runId: A.runId, digest: A.digest }))).toBe('RUN_NOT_FOUND');
      expect(await refusal(p.call('steps.get', { stepId: A.stepId }))).toBe(await refusal(p.call('steps.get', { stepId: missing('stp') })));
      expect(await refusal(p.call('attempts.cancel', { attemptId: A.attemptId }))).toBe(await refusal(p.call('attempts.cancel', { attemptId: missing('att') })));
      expect(await refusal(p.call('gates.approve', { gateId: A.gateId }))).toBe(await refusal(p.call('gates.approve', { gateId: missing('gat') })));
      expect(await refusal(p.call('runs.abort', { runId: A.runId }))).toBe('RUN_NOT_FOUND');
      expect(await refusal(p.call('runs.open', { workspaceId: 'tiny-math', instanceId: a.connector.instanceId! }))).toBe(
        await refusal(p.call('runs.open', { workspaceId: 'tiny-math', instanceId: missing('ins') })),
      );
    }
  });

  it("org B's calls never reached org A's daemon, and org A's run is untouched", async () => {
    const step = await plannerA.call('steps.get', { stepId: A.stepId });
    expect(step.state).toBe('awaiting_approval');
    expect(step.gates.find((g) => g.gateId === A.gateId)?.status).toBe('pending');
    // A run opened by B lands on B's machine, not A's.
    const runB = await plannerB.call('runs.open', { workspaceId: 'tiny-math' });
    expect(await refusal(a.daemon.verb('runs.get', { runId: runB.runId }))).toBe('RUN_NOT_FOUND');
    const onB = await b.daemon.verb('runs.get', { runId: runB.runId });
    expect(onB.runId).toBe(runB.runId);
    const onA = await a.daemon.verb('runs.list', {});
    expect(onA.runs.map((r) => r.runId)).toEqual([A.runId]);
  });
});
