/**
 * The daemon ledger, through the built `@sluice/daemon`:
 * - event append rate with group commit (`Store.queueEvent`: the events queued in one turn of the event loop,
 *   here 200, commit in one transaction that notifies the bus once) while another process long-polls
 *   `events.list` (`waitMs`) over real loopback HTTP and must see every event;
 * - the same with one event per commit (`Store.appendEvent`), for comparison;
 * - `events.list` "last 50 events of a run" at 1 000 000 events (2 000 runs × 500 events, interleaved), p50/p99,
 *   measured at the store query the verb runs, and once through the HTTP verb for the whole request;
 * - idle RSS of `sluice daemon start` (a real process, after start-up settles).
 * Baselines: the raw SQLite figures of bench/baselines/sqlite.mjs in the same run.
 *
 *   node bench/scenarios/daemon-ledger.mjs [--quick]      (standalone; prints JSON)
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { setImmediate } from 'node:timers';
import { ArtifactStore, buildApp, ensureHome, ensureToken, openDatabase, parseConfig, Store } from '@sluice/daemon';
import { figure, median, nowMs, round, summarize, sleep } from '../lib/stats.mjs';
import { rssBytes } from '../lib/proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../packages/daemon/dist/cli/main.js');
const ACTOR = 'system:bench';
const DATA = { attemptId: 'att_01J00000000000000000000000', from: 'running', to: 'validating', detail: 'x'.repeat(60) };

function freshStore(dir, name) {
  return new Store(openDatabase(path.join(dir, `${name}.db`)));
}

/** The long-polling follower, in its own process as a planner's client would be: follows one run until a stop event. */
const READER = `
const [url, token, runId, after0] = process.argv.slice(1);
let after = Number(after0), seen = 0, polls = 0;
for (;;) {
  const res = await fetch(url + '/api/v1/verbs/events.list', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify({ runId, after, limit: 500, waitMs: 5000 }) });
  const body = await res.json();
  if (res.status !== 200) { console.log(JSON.stringify({ error: body })); process.exit(1); }
  polls++;
  seen += body.events.length;
  after = body.nextCursor;
  if (body.events.some((e) => e.data.stop === true)) break;
}
console.log(JSON.stringify({ seen, polls }));
`;

/**
 * Append for `ms` while another process long-polls events.list over HTTP. `batch` > 1: group commit through
 * `Store.queueEvent` (everything queued in one turn commits together); 1: `Store.appendEvent`, one commit each.
 */
async function appendWhileLongPolling(dir, name, batch, ms) {
  const home = ensureHome(path.join(dir, name));
  const token = ensureToken(home);
  const store = new Store(openDatabase(home.db));
  const app = buildApp({ store, artifacts: new ArtifactStore(home.artifacts), token }, parseConfig({ listen: { host: '127.0.0.1', port: 0 } }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${app.server.address().port}`;
  const run = store.openRun({ workspaceId: 'web', title: 'bench', baseRef: 'main', baseCommit: 'a'.repeat(40), branch: 'sluice/run/bench', actor: ACTOR });
  const reader = spawn(process.execPath, ['--input-type=module', '-e', READER, url, token, run.runId, String(store.lastCursor())], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  reader.stdout.on('data', (d) => (out += d));
  const readerDone = new Promise((r) => reader.once('exit', r));
  await sleep(300);
  const event = { type: 'attempt.state_changed', runId: run.runId, data: DATA };
  let written = 0;
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  while (nowMs() - t0 < ms) {
    if (batch === 1) {
      for (let k = 0; k < 50; k++) store.appendEvent(event, ACTOR);
      written += 50;
      await new Promise((r) => setImmediate(r));
    } else {
      let last;
      for (let k = 0; k < batch; k++) last = store.queueEvent(event, ACTOR);
      await last;
      written += batch;
    }
  }
  const seconds = (nowMs() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  store.appendEvent({ ...event, data: { stop: true } }, ACTOR);
  await readerDone;
  const { seen, polls } = JSON.parse(out.trim().split('\n').at(-1));
  await app.close();
  store.close();
  return { rate: written / seconds, perCpuSecond: written / cpuSeconds, written, seen: seen - 1, polls };
}

/** Fill to `rows` events (interleaved runs) and time "last 50 of a run" reads. */
async function last50(dir, rows, rounds, quick) {
  const store = freshStore(dir, 'big');
  const nruns = 2000;
  const runIds = Array.from({ length: nruns }, (_, i) => `run_01J${String(i).padStart(23, '0')}`);
  // The fill is not what is measured: write the rows straight into the daemon's events table, 50 000 per commit.
  const ins = store.db.prepare('INSERT INTO events (type, run_id, step_id, attempt_id, actor, at, data) VALUES (?, ?, NULL, NULL, ?, ?, ?)');
  const payload = JSON.stringify(DATA);
  const at = new Date().toISOString();
  const fill = store.db.transaction((from, n) => {
    for (let k = from; k < from + n && k < rows; k++) ins.run('attempt.state_changed', runIds[k % nruns], ACTOR, at, payload);
  });
  for (let i = 0; i < rows; i += 50_000) fill(i, 50_000);
  // The cursor a follower holds when 50 events of its run remain: found off the clock.
  const cursorQ = store.db.prepare('SELECT cursor FROM events WHERE run_id = ? ORDER BY cursor DESC LIMIT 1 OFFSET 50');
  const probes = runIds.filter((_, i) => i % 7 === 0).map((runId) => ({ runId, after: cursorQ.get(runId).cursor }));
  const reads = [];
  for (let r = 0; r < rounds; r++) {
    const samples = [];
    const t0 = nowMs();
    for (let i = 0; i < (quick ? 3000 : 8000) && nowMs() - t0 < 10_000; i++) {
      const p = probes[(i * 31 + r * 7) % probes.length];
      const t = nowMs();
      const got = store.listEvents({ runId: p.runId, after: p.after, limit: 50 });
      samples.push(nowMs() - t);
      if (got.length !== 50) throw new Error(`expected 50 events, got ${got.length}`);
    }
    reads.push(summarize(samples));
  }
  store.close();
  return { reads };
}

/** RSS of an idle `sluice daemon start` process, in MB. */
async function idleRss(dir) {
  const home = path.join(dir, 'idle-home');
  const child = spawn(process.execPath, [BIN, 'daemon', 'start', '--port', '0', '--log-level', 'warn'], { env: { ...process.env, SLUICE_HOME: home }, stdio: 'ignore' });
  try {
    const t0 = nowMs();
    while (!existsSync(path.join(home, 'daemon.json'))) {
      if (nowMs() - t0 > 20_000) throw new Error('daemon did not start');
      await sleep(50);
    }
    const { url } = JSON.parse(readFileSync(path.join(home, 'daemon.json'), 'utf8'));
    const token = readFileSync(path.join(home, 'daemon.token'), 'utf8').trim();
    // Touch every route family once so the idle figure is after warm-up, then let it settle.
    await fetch(`${url}/healthz`);
    await fetch(`${url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    await sleep(2000);
    return rssBytes(child.pid) / (1024 * 1024);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick = false }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-ledger-'));
  try {
    const group = [];
    const single = [];
    const polls = [];
    const perCpu = [];
    for (let r = 0; r < rounds; r++) {
      const g = await appendWhileLongPolling(dir, `g${r}`, 200, quick ? 1000 : 2000);
      if (g.seen !== g.written) throw new Error(`the long-polling reader saw ${g.seen} of ${g.written} events`);
      group.push(g.rate);
      polls.push(g.polls);
      perCpu.push(g.perCpuSecond);
      single.push((await appendWhileLongPolling(dir, `s${r}`, 1, quick ? 1000 : 2000)).rate);
    }
    const rows = quick ? 300_000 : 1_000_000;
    const { reads } = await last50(dir, rows, rounds, quick);
    const rss = [];
    for (let r = 0; r < Math.min(rounds, 2); r++) rss.push(await idleRss(dir));
    const n = rows.toLocaleString('en-US');
    return [
      figure('daemon.event-append.group', 'daemon: event append rate, group commit (200 per commit) while a reader long-polls events.list', 'events/s', group, { better: 'higher', baselineId: 'raw.sqlite.insert-batch100',
        noteSuffix: `; ${round(median(perCpu))} events per CPU-second of the daemon process (wall-clock rate depends on the machine's load); a separate process long-polling events.list over HTTP saw every event in ${median(polls)} polls` }),
      figure('daemon.event-append.single', 'daemon: event append, 1 event per commit, reader long-polling', 'events/s', single, { better: 'higher', baselineId: 'raw.sqlite.insert-autocommit' }),
      figure('daemon.events-list.last50-p50', `daemon: events.list last 50 of a run at 1M events, p50`, 'ms', reads.map((x) => x.p50), { better: 'lower', baselineId: 'raw.sqlite.last50-p50', noteSuffix: `; ${n} events` }),
      figure('daemon.events-list.last50-p99', `daemon: events.list last 50 of a run at 1M events, p99`, 'ms', reads.map((x) => x.p99), { better: 'lower', baselineId: 'raw.sqlite.last50-p99', noteSuffix: `; ${n} events` }),
      figure('daemon.idle-rss', 'daemon: idle RSS of `sluice daemon start`', 'MB', rss, { better: 'lower' }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(JSON.stringify(await run({ rounds: quick ? 1 : 3, quick }), null, 2));
}
