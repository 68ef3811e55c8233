/**
 * Scale on one daemon: 50 runs opened on one workspace, one step each dispatched at once with the `simulation`
 * executor (edits one file, adds one), until every step settles. Figures: time to drain and step latency
 * (dispatch → settled, client side). Baseline in the same run: the raw git work of the same 50 attempts
 * (worktree add on a new branch, write the same two files, add + commit, diff, worktree remove) at the same
 * concurrency, driven directly with git (add and remove serialized per repository, as they must be).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { git, makeRepo } from '../lib/git-fixtures.mjs';
import { median, nowMs, round, spread, summarize } from '../lib/stats.mjs';
import { DaemonNode } from './stack.mjs';

const RUNS = 50;
const CONCURRENCY = 4;

const task = (i) => `Edit one file and add a note (bench run ${i}).
write src/d${i % 5}/f${(i % 5) * 20}.ts
<<<
export const edited = ${i};
>>>
write notes/run-${i}.md
<<<
# run ${i}
>>>
summary bench edit ${i}`;

async function callVerb(daemon, verb, input) {
  const res = await fetch(`${daemon.url}/api/v1/verbs/${verb}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${verb}: ${res.status} ${body.code}: ${body.message}`);
  return body;
}

/** Dispatch one step per run at once and wait for all of them to settle. */
async function drainOnce(daemon, workspaceId, round_) {
  const runIds = [];
  for (let i = 0; i < RUNS; i++) runIds.push((await callVerb(daemon, 'runs.open', { workspaceId, title: `bench ${round_}/${i}` })).runId);
  const t0 = nowMs();
  let settledCount = 0;
  let watchdog;
  const stalled = new Promise((_, reject) => {
    watchdog = setTimeout(() => {
      if (settledCount === 0) reject(new Error('no step settled within 30 s: steps are not executing (is the execution engine wired into `sluice daemon start`?)'));
    }, 30_000);
  });
  const all = Promise.all(
    runIds.map(async (runId, i) => {
      const start = nowMs();
      const step = await callVerb(daemon, 'steps.dispatch', { runId, executor: 'simulation', task: task(i), idempotencyKey: `bench-${round_}-${i}` });
      let detail;
      const deadline = nowMs() + 80_000;
      do {
        detail = await callVerb(daemon, 'steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
      } while (!detail.settled && nowMs() < deadline);
      settledCount++;
      return { ms: nowMs() - start, state: detail.state, settled: detail.settled };
    }),
  );
  const results = await Promise.race([all, stalled]).finally(() => clearTimeout(watchdog));
  const drainMs = nowMs() - t0;
  const bad = results.filter((r) => r.state !== 'succeeded');
  return { drainMs, steps: results.map((r) => r.ms), bad: bad.length, badStates: [...new Set(bad.map((r) => r.state))] };
}

/**
 * The same git work done directly, CONCURRENCY at a time. `worktree add`/`remove` of one repository are
 * serialized: concurrent ones race on .git/worktrees ("failed to read .git/worktrees/<other>/commondir").
 */
async function rawOnce(repo, wtRoot, round_) {
  let tail = Promise.resolve();
  const exclusive = (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
  let next = 0;
  const lat = [];
  const t0 = nowMs();
  const worker = async () => {
    while (next < RUNS) {
      const i = next++;
      const start = nowMs();
      const wt = path.join(wtRoot, `raw-${round_}-${i}`);
      const branch = `bench/raw-${round_}-${i}`;
      await exclusive(() => git(['-C', repo, 'worktree', 'add', '-q', '-b', branch, wt, 'HEAD']));
      writeFileSync(path.join(wt, 'src', `d${i % 5}`, `f${(i % 5) * 20}.ts`), `export const edited = ${i};\n`);
      mkdirSync(path.join(wt, 'notes'), { recursive: true });
      writeFileSync(path.join(wt, 'notes', `run-${i}.md`), `# run ${i}\n`);
      await git(['-C', wt, 'add', '-A']);
      await git(['-C', wt, 'commit', '-q', '-m', `attempt ${i}`]);
      await git(['-C', wt, 'diff', 'HEAD~1', 'HEAD']);
      await exclusive(() => git(['-C', repo, 'worktree', 'remove', '--force', wt]));
      lat.push(nowMs() - start);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { drainMs: nowMs() - t0, steps: lat };
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-scale-'));
  const daemon = new DaemonNode(path.join(dir, 'home'), { env: { LOG_LEVEL: 'warn' } });
  try {
    const repo = await makeRepo(path.join(dir, 'repo'), 100, 10_000);
    const rawRepo = await makeRepo(path.join(dir, 'raw-repo'), 100, 10_000);
    await daemon.init();
    await daemon.addWorkspace(repo, 'scale', { approval: { policy: 'none', remote: false } });
    daemon.editConfig((cfg) => {
      cfg.concurrency = CONCURRENCY;
      cfg.workspaces.scale.concurrency = CONCURRENCY;
      cfg.workspaces.scale.validations = {};
    });
    await daemon.start();
    const wtRoot = path.join(dir, 'raw-wt');
    mkdirSync(wtRoot);
    const n = Math.min(rounds, 2);
    const per = [];
    for (let r = 0; r < n; r++) {
      const raw = await rawOnce(rawRepo, wtRoot, r);
      const sl = await drainOnce(daemon, 'scale', r);
      per.push({ raw, sl });
    }
    const bad = per.reduce((a, x) => a + x.sl.bad, 0);
    const badNote = bad ? `; ${bad} steps did not succeed (${[...new Set(per.flatMap((x) => x.sl.badStates))].join(', ')})` : '';
    const cfgNote = `${RUNS} runs × 1 step, concurrency ${CONCURRENCY}, worktrees on ${os.tmpdir()}`;
    const slSteps = per.flatMap((x) => x.sl.steps);
    const rawSteps = per.flatMap((x) => x.raw.steps);
    const drain = per.map((x) => x.sl.drainMs / 1000);
    const rawDrain = per.map((x) => x.raw.drainMs / 1000);
    return [
      { id: 'raw.git.attempts50.drain', figure: `raw: git work of ${RUNS} attempts at concurrency ${CONCURRENCY}, wall`, unit: 's', value: round(median(rawDrain)), note: `median of ${n} rounds (${spread(rawDrain)})` },
      { id: 'raw.git.attempts50.p99', figure: `raw: git work of one attempt among ${RUNS} (add, write, commit, diff, remove) p99`, unit: 'ms', value: round(summarize(rawSteps).p99), note: `p50 ${round(summarize(rawSteps).p50)} ms` },
      { id: 'scale.runs50.drain', figure: `${RUNS} concurrent runs, simulation executor: time to drain`, unit: 's', value: round(median(drain)), baselineId: 'raw.git.attempts50.drain', note: `median of ${n} rounds (${spread(drain)}); ${cfgNote}${badNote}` },
      { id: 'scale.runs50.step-p50', figure: `${RUNS} concurrent runs: step latency (dispatch → settled) p50`, unit: 'ms', value: round(summarize(slSteps).p50), note: `${slSteps.length} steps${badNote}` },
      { id: 'scale.runs50.step-p99', figure: `${RUNS} concurrent runs: step latency (dispatch → settled) p99`, unit: 'ms', value: round(summarize(slSteps).p99), note: `${slSteps.length} steps; includes queueing behind ${CONCURRENCY} slots${badNote}` },
    ];
  } finally {
    await daemon.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
