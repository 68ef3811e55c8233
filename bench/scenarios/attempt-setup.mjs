/**
 * Attempt setup and cancel latency of the daemon's execution engine, against raw git in the same run.
 *
 * - "attempt setup": time from `steps.dispatch` (the verb service call) to the attempt being recorded `running`
 *   (the executor process has been spawned), for 100- and 2 000-file repos. Baseline: a plain
 *   `git worktree add -b <branch> <path> HEAD` of the same repo, interleaved with the engine rounds.
 *   Fast options: worktrees on tmpfs (/dev/shm) and a pooled worktree reused between attempts.
 * - "cancel": time from `attempts.cancel` to the answer (the attempt recorded `cancelled`, which only happens
 *   after the process group exited and the partial changes were committed), for a child that ignores SIGTERM
 *   (SIGKILL after the grace period) and one that exits on SIGTERM. Baseline: grace + 200 ms (the issue's bound).
 *
 * Uses the built daemon (`npm run build`): packages/daemon/dist.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { git, makeRepo } from '../lib/git-fixtures.mjs';
import { figure } from '../lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../packages/daemon/dist');
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);

const GRACE_MS = 1000;

async function loadDaemon() {
  const [{ Store, openDatabase }, { ArtifactStore }, { parseConfig }, { ConfigHolder }, { VerbService }, { ExecutionEngine }] = await Promise.all([
    load('store/index.js'),
    load('artifacts/artifact-store.js'),
    load('config/index.js'),
    load('config/config-holder.js'),
    load('service/verb-service.js'),
    load('engine/index.js'),
  ]);
  return { Store, openDatabase, ArtifactStore, parseConfig, ConfigHolder, VerbService, ExecutionEngine };
}

/** One in-process daemon (real SQLite, artifacts, verb service and engine) over one repo. */
async function makeDaemon(D, dir, repo, { worktreeRoot = null, pool = 0 } = {}) {
  const home = mkdtempSync(path.join(dir, 'home-'));
  const config = new D.ConfigHolder(
    D.parseConfig({
      concurrency: 4,
      cancelGrace: `${GRACE_MS}ms`,
      workspaces: { bench: { path: repo, name: 'bench', executors: { sim: { adapter: 'simulation' } }, concurrency: 4, worktreeRoot } },
    }),
  );
  const store = new D.Store(D.openDatabase(path.join(home, 'state.db')));
  const artifacts = new D.ArtifactStore(path.join(home, 'artifacts'));
  const engine = new D.ExecutionEngine(
    { store, artifacts, config, attemptsDir: path.join(home, 'attempts'), worktreesDir: path.join(home, 'worktrees') },
    { worktreePool: pool },
  );
  const service = new D.VerbService({ store, artifacts, engine, config });
  await engine.start();
  const ctx = { actor: 'local:bench', sharedWorkspaces: null };
  const call = (verb, input) => service.call(verb, input, ctx);
  const run = await call('runs.open', { workspaceId: 'bench' });

  /** Wait until an attempt reaches one of `states`; resolves the time it was seen (bus notices are synchronous). */
  const reach = (attemptId, states) =>
    new Promise((resolve) => {
      const check = () => {
        const a = store.getAttempt(attemptId);
        if (a && states.includes(a.state)) {
          off();
          resolve(performance.now());
          return true;
        }
        return false;
      };
      const off = store.bus.subscribe(check);
      check();
    });

  async function settle(stepId) {
    for (;;) {
      const s = await call('steps.wait', { stepId, timeoutMs: 30_000 });
      if (s.settled) return s;
    }
  }

  return {
    /** dispatch → running, in ms; waits for the step to settle (untimed) so rounds do not overlap. */
    async setup() {
      const t0 = performance.now();
      const step = await call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'log started\nsummary bench' });
      const t1 = await reach(step.attempts[0].attemptId, ['running', 'failed']);
      await settle(step.stepId);
      if (store.getAttempt(step.attempts[0].attemptId).state === 'failed') throw new Error('bench attempt failed');
      return t1 - t0;
    },
    /** cancel → answered (recorded cancelled), in ms. */
    async cancel(task) {
      const step = await call('steps.dispatch', { runId: run.runId, executor: 'sim', task });
      const attemptId = step.attempts[0].attemptId;
      await reach(attemptId, ['running']);
      // Let the child install its handlers and reach its sleep.
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      const out = await call('attempts.cancel', { attemptId });
      const ms = performance.now() - t0;
      if (out.attempt.state !== 'cancelled') throw new Error(`cancel ended ${out.attempt.state}`);
      return ms;
    },
    async close() {
      await engine.close();
      store.close();
    },
  };
}

async function rawAdd(repo, wt, n) {
  const t = await git(['-C', repo, 'worktree', 'add', '-q', '-b', `bench-raw-${n}`, wt, 'HEAD']);
  await git(['-C', repo, 'worktree', 'remove', '--force', wt]);
  return t.ms;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  if (!existsSync(path.join(dist, 'engine/index.js'))) throw new Error('build first: npm run build (packages/daemon/dist is missing)');
  const D = await loadDaemon();
  const base = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-attempt-'));
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/sluice-bench-attempt-') : null;
  const daemons = [];
  try {
    const small = await makeRepo(path.join(base, 'r100'), 100, 10_000);
    const large = await makeRepo(path.join(base, 'r2000'), 2000, 8000);
    const cells = {
      small: await makeDaemon(D, base, small),
      large: await makeDaemon(D, base, large),
      ...(shm ? { largeShm: await makeDaemon(D, base, large, { worktreeRoot: (mkdirSync(path.join(shm, 'wt'), { recursive: true }), path.join(shm, 'wt')) }) } : {}),
      largePool: await makeDaemon(D, base, large, { pool: 1 }),
    };
    daemons.push(...Object.values(cells));
    const s = { small: [], rawSmall: [], large: [], rawLarge: [], largeShm: [], rawLargeShm: [], largePool: [], cancelKill: [], cancelTerm: [] };
    await cells.largePool.setup(); // fills the pool; not measured
    let n = 0;
    const perRound = quick ? 1 : 2;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++) {
        s.rawSmall.push(await rawAdd(small, path.join(base, `raw${n++}`), n));
        s.small.push(await cells.small.setup());
        s.rawLarge.push(await rawAdd(large, path.join(base, `raw${n++}`), n));
        s.large.push(await cells.large.setup());
        if (shm) {
          s.rawLargeShm.push(await rawAdd(large, path.join(shm, `raw${n++}`), n));
          s.largeShm.push(await cells.largeShm.setup());
        }
        s.largePool.push(await cells.largePool.setup());
      }
      s.cancelKill.push(await cells.small.cancel('ignore-sigterm\nsleep 60000'));
      s.cancelTerm.push(await cells.small.cancel('sleep 60000'));
    }
    const figs = [
      figure('attempt.raw-add.100', 'raw in same run: git worktree add -b, 100 files, ext4', 'ms', s.rawSmall, { better: 'lower' }),
      figure('attempt.raw-add.2000', 'raw in same run: git worktree add -b, 2 000 files, ext4', 'ms', s.rawLarge, { better: 'lower' }),
      figure('attempt.setup.100', 'attempt setup (dispatch → executor started), 100 files, ext4', 'ms', s.small, { better: 'lower', baselineId: 'attempt.raw-add.100' }),
      figure('attempt.setup.2000', 'attempt setup (dispatch → executor started), 2 000 files, ext4', 'ms', s.large, { better: 'lower', baselineId: 'attempt.raw-add.2000' }),
      figure('attempt.setup.2000.pool', 'attempt setup, 2 000 files, fast option: pooled worktree reuse, ext4', 'ms', s.largePool, { better: 'lower', baselineId: 'attempt.raw-add.2000' }),
      figure('attempt.cancel.sigkill', `cancel → cancelled recorded, child ignores SIGTERM (grace ${GRACE_MS} ms)`, 'ms', s.cancelKill, { better: 'lower', baseline: GRACE_MS + 200, baselineFigure: 'grace + 200 ms' }),
      figure('attempt.cancel.sigterm', `cancel → cancelled recorded, child exits on SIGTERM (grace ${GRACE_MS} ms)`, 'ms', s.cancelTerm, { better: 'lower', baseline: GRACE_MS + 200, baselineFigure: 'grace + 200 ms' }),
    ];
    if (shm) {
      figs.splice(2, 0, figure('attempt.raw-add.2000.shm', 'raw in same run: git worktree add -b, 2 000 files, tmpfs', 'ms', s.rawLargeShm, { better: 'lower' }));
      figs.push(figure('attempt.setup.2000.shm', 'attempt setup, 2 000 files, fast option: worktrees on tmpfs', 'ms', s.largeShm, { better: 'lower', baselineId: 'attempt.raw-add.2000.shm' }));
    }
    return figs;
  } finally {
    for (const d of daemons) await d.close().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
    if (shm) rmSync(shm, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figs = await run({ rounds: Number(process.argv[2] ?? 3) });
  for (const f of figs) console.log(`${f.figure}: ${f.value} ${f.unit}${f.baseline ? ` (baseline ${f.baseline})` : ''}  ${f.note}`);
}
