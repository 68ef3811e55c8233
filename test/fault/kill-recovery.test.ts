// kill -9 of the relay, the connector and the daemon at random points of runs (seeded, printed), several times over.
// After each restart and recovery: nothing live is left behind, no artifact is lost or corrupt, both audit chains
// verify, and a dispatch retried with its idempotency key never made a second step.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_ATTEMPT_STATES, SETTLED_STEP_STATES } from '@sluice/shared-protocol';
import type { Step } from '@sluice/shared-protocol';
import { seededRandom } from '@sluice/test-kit';
import { HttpPlanner, PlannerError, slowFixTask, startStack, waitUntil } from '../helpers/index.mjs';
import type { Stack } from '../helpers/index.mjs';
import { NotYet, retrying, sleep } from './retrying.js';
import { DEFAULT_KILL_ROUNDS, killRoundsTimeoutMs, recoveryChecksTimeoutMs } from './fault-cases.js';

const SEED = Number(process.env.SLUICE_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(process.env.SLUICE_FAULT_ROUNDS ?? DEFAULT_KILL_ROUNDS);
const rnd = seededRandom(SEED);

type Victim = 'relay' | 'connector' | 'daemon';

/** Each process is killed ROUNDS/3 times, in a seeded order. */
function victims(): Victim[] {
  const list: Victim[] = [];
  for (let i = 0; i < ROUNDS; i++) list.push((['relay', 'connector', 'daemon'] as const)[i % 3]!);
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

let stack: Stack;
let planner: HttpPlanner;

beforeAll(async () => {
  console.log(`fault suite seed ${SEED}, ${ROUNDS} kills (replay with SLUICE_FAULT_SEED=${SEED})`);
  stack = await startStack({ approval: { policy: 'none', remote: true }, heartbeatMs: 1000 });
  planner = new HttpPlanner(stack.relay.url!, stack.org.plannerToken);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function restart(v: Victim): Promise<void> {
  if (v === 'daemon') await stack.daemon.start();
  if (v === 'connector') await stack.connector.start();
  if (v === 'relay') {
    await stack.relay.start();
    await stack.connector.waitConnected(20_000);
  }
}

function stateDb(): Database.Database {
  return new Database(join(stack.daemon.home, 'state.db'), { readonly: true, fileMustExist: true });
}

describe(`kill -9 at random points (seed ${SEED})`, () => {
  const dispatched: Array<{ runId: string; key: string; stepId: string; attempts: number }> = [];

  it('each process killed mid-run comes back; dispatch retried with its key never makes a second step', async () => {
    const order = victims();
    for (const [round, victim] of order.entries()) {
      const run = await retrying('runs.open', () => planner.call('runs.open', { workspaceId: stack.workspaceId, title: `fault round ${round}` }));
      const attempts = 1 + Math.floor(rnd() * 2);
      const input = {
        runId: run.runId,
        executor: 'simulation',
        task: slowFixTask(200 + Math.floor(rnd() * 800)),
        validations: ['test'],
        attempts,
        idempotencyKey: `fault-${round}`,
      };
      const first = planner.call('steps.dispatch', input).then(
        (s) => s,
        (e: unknown) => e,
      );
      const killAfter = Math.floor(rnd() * 1500);
      await sleep(killAfter);
      const node = stack[victim];
      await node.crash();
      console.log(`round ${round}: killed the ${victim} ${killAfter} ms after dispatch`);
      const firstOutcome = await first;
      await restart(victim);
      // The planner does not know whether its dispatch landed: it retries with the same key.
      const step = await retrying('steps.dispatch (retry)', () => planner.call('steps.dispatch', input));
      if (!(firstOutcome instanceof Error)) expect((firstOutcome as Step).stepId).toBe(step.stepId);
      dispatched.push({ runId: run.runId, key: input.idempotencyKey, stepId: step.stepId, attempts });
      const settled = await retrying('steps.wait', async () => {
        const w = await planner.call('steps.wait', { stepId: step.stepId, timeoutMs: 10_000 });
        if (!w.settled) throw new NotYet('the step has not settled yet');
        return w;
      }, 45_000);
      expect(SETTLED_STEP_STATES).toContain(settled.state);
      const detail = await retrying('runs.get', () => planner.call('runs.get', { runId: run.runId }));
      expect(detail.steps.map((s) => s.stepId), `round ${round}: one step per key`).toEqual([step.stepId]);
    }
  }, killRoundsTimeoutMs(ROUNDS));

  it('after recovery nothing is live, every run closes, no artifact is lost or corrupt, and both audit chains verify', async () => {
    expect(dispatched.length).toBe(ROUNDS);
    for (const d of dispatched) {
      // A run whose step still waits at an approval gate is not closed over it: the planner aborts it instead.
      const closed = await retrying('runs.close', () =>
        planner.call('runs.close', { runId: d.runId }).catch((err: unknown) => {
          if (err instanceof PlannerError && err.code === 'RUN_HAS_PENDING_GATES') return planner.call('runs.abort', { runId: d.runId, reason: 'a gate is still pending' });
          throw err;
        }),
      );
      expect(['completed', 'aborted']).toContain(closed.state);
    }
    const db = stateDb();
    try {
      const live = db.prepare(`SELECT attempt_id, state FROM attempts WHERE state IN (${LIVE_ATTEMPT_STATES.map(() => '?').join(',')})`).all(...LIVE_ATTEMPT_STATES);
      expect(live).toEqual([]);
      expect(db.prepare("SELECT step_id, state FROM steps WHERE state IN ('queued','running')").all()).toEqual([]);
      expect(db.prepare("SELECT run_id FROM runs WHERE state = 'open'").all()).toEqual([]);
      // Idempotent dispatch: exactly one step per (run, key), with exactly the attempts asked for.
      for (const d of dispatched) {
        const steps = db.prepare('SELECT step_id FROM steps WHERE run_id = ?').all(d.runId) as Array<{ step_id: string }>;
        expect(steps.map((s) => s.step_id)).toEqual([d.stepId]);
        const n = (db.prepare('SELECT count(*) AS n FROM attempts WHERE step_id = ?').get(d.stepId) as { n: number }).n;
        expect(n).toBe(d.attempts);
      }
      // Every recorded artifact exists and every blob hashes to its name.
      const root = join(stack.daemon.home, 'artifacts', 'sha256');
      const refs = db.prepare('SELECT DISTINCT digest FROM artifact_refs').all() as Array<{ digest: string }>;
      expect(refs.length).toBeGreaterThan(0);
      for (const { digest } of refs) {
        const hex = digest.slice(7);
        expect(existsSync(join(root, hex.slice(0, 2), hex)), `blob of ${digest}`).toBe(true);
      }
      let blobs = 0;
      for (const dir of readdirSync(root)) {
        for (const name of readdirSync(join(root, dir))) {
          const sum = createHash('sha256').update(readFileSync(join(root, dir, name))).digest('hex');
          expect(sum, `blob ${dir}/${name}`).toBe(name);
          blobs++;
        }
      }
      console.log(`fault suite: ${dispatched.length} steps, ${refs.length} artifact refs, ${blobs} blobs re-hashed`);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    const daemonAudit = await stack.daemon.cli(['audit', 'verify', '--json']);
    expect(daemonAudit.code, daemonAudit.stderr).toBe(0);
    expect(JSON.parse(daemonAudit.stdout)).toMatchObject({ ok: true });
    const relayAudit = await stack.relay.cli(['audit', 'verify', '--json']);
    expect(relayAudit.code, relayAudit.stderr).toBe(0);
    expect(JSON.parse(relayAudit.stdout)).toMatchObject({ ok: true });
  }, recoveryChecksTimeoutMs(ROUNDS));
});

// Liveness of the harness itself: every process is back and serving after the last kill.
it('the whole stack serves after the kills', async () => {
  await waitUntil(async () => (await planner.call('instances.list', {})).instances.some((i) => i.online), { timeoutMs: 20_000, what: 'the instance online' });
});
