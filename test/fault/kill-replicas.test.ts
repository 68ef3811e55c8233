// kill -9 on the two-replica PostgreSQL stack: replica A, replica B, the connector and the daemon die at random
// points of runs (seeded, printed). The planner goes through the balancer, so its calls land on either replica.
// After each restart: a dispatch retried with its idempotency key never made a second step; at the end the relay's
// one audit chain (both replicas' rows) and the daemon's verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTLED_STEP_STATES } from '@sluice/shared-protocol';
import type { Step } from '@sluice/shared-protocol';
import { seededRandom } from '@sluice/test-kit';
import { HttpPlanner, slowFixTask } from '../helpers/index.mjs';
import { startReplicaStack, type ReplicaStack } from '../helpers/replica-stack.js';
import { NotYet, retrying, sleep } from './retrying.js';
import { DEFAULT_KILL_ROUNDS, killRoundsTimeoutMs, recoveryChecksTimeoutMs } from './fault-cases.js';

const SEED = Number(process.env.SLUICE_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(process.env.SLUICE_FAULT_ROUNDS ?? DEFAULT_KILL_ROUNDS);
const rnd = seededRandom(SEED);

const VICTIMS = ['replica-a', 'replica-b', 'connector', 'daemon'] as const;
type Victim = (typeof VICTIMS)[number];

/** The victims in turn, then shuffled by the seed. */
function victims(): Victim[] {
  const list: Victim[] = Array.from({ length: ROUNDS }, (_, i) => VICTIMS[i % VICTIMS.length]!);
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

let s: ReplicaStack;
let planner: HttpPlanner;

beforeAll(async () => {
  console.log(`replica fault suite seed ${SEED}, ${ROUNDS} kills (replay with SLUICE_FAULT_SEED=${SEED})`);
  s = await startReplicaStack({ approval: { policy: 'none', remote: true } });
  planner = new HttpPlanner(s.lb.url, s.machine.org.plannerToken);
}, 120_000);

afterAll(async () => {
  await s?.stop();
}, 60_000);

function node(v: Victim) {
  return v === 'replica-a' ? s.a : v === 'replica-b' ? s.b : v === 'connector' ? s.machine.connector : s.machine.daemon;
}

async function restart(v: Victim): Promise<void> {
  await node(v).start();
  // The connector may have been on the killed replica: it comes back through the balancer.
  if (v !== 'daemon') await s.machine.connector.waitConnected(30_000);
}

describe(`kill -9 of replicas, connector and daemon (seed ${SEED})`, () => {
  const dispatched: Array<{ runId: string; stepId: string }> = [];

  it('every victim comes back; a dispatch retried with its key on any replica never makes a second step', async () => {
    for (const [round, victim] of victims().entries()) {
      const run = await retrying('runs.open', () => planner.call('runs.open', { workspaceId: 'tiny-math', title: `replica fault round ${round}` }));
      const input = { runId: run.runId, executor: 'simulation', task: slowFixTask(200 + Math.floor(rnd() * 800)), validations: ['test'], idempotencyKey: `rfault-${round}` };
      const first = planner.call('steps.dispatch', input).then(
        (x) => x,
        (e: unknown) => e,
      );
      const killAfter = Math.floor(rnd() * 1500);
      await sleep(killAfter);
      await node(victim).crash();
      console.log(`round ${round}: killed ${victim} ${killAfter} ms after dispatch`);
      const firstOutcome = await first;
      await restart(victim);
      const step = await retrying('steps.dispatch (retry)', () => planner.call('steps.dispatch', input));
      if (!(firstOutcome instanceof Error)) expect((firstOutcome as Step).stepId).toBe(step.stepId);
      dispatched.push({ runId: run.runId, stepId: step.stepId });
      const settled = await retrying(
        'steps.wait',
        async () => {
          const w = await planner.call('steps.wait', { stepId: step.stepId, timeoutMs: 10_000 });
          if (!w.settled) throw new NotYet('the step has not settled yet');
          return w;
        },
        45_000,
      );
      expect(SETTLED_STEP_STATES).toContain(settled.state);
      const detail = await retrying('runs.get', () => planner.call('runs.get', { runId: run.runId }));
      expect(detail.steps.map((x) => x.stepId), `round ${round}: one step per key`).toEqual([step.stepId]);
    }
  }, killRoundsTimeoutMs(ROUNDS));

  it('after recovery every run closes and both audit chains verify (the relay one across both replicas)', async () => {
    expect(dispatched.length).toBe(ROUNDS);
    for (const d of dispatched) {
      const closed = await retrying('runs.close', () => planner.call('runs.close', { runId: d.runId }));
      expect(closed.state).toBe('completed');
    }
    const relayAudit = await s.b.cli(['audit', 'verify', '--json']);
    expect(relayAudit.code, relayAudit.stderr).toBe(0);
    expect(JSON.parse(relayAudit.stdout)).toMatchObject({ ok: true });
    const daemonAudit = await s.machine.daemon.cli(['audit', 'verify', '--json']);
    expect(daemonAudit.code, daemonAudit.stderr).toBe(0);
  }, recoveryChecksTimeoutMs(ROUNDS));
});
