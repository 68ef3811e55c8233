/**
 * Raw better-sqlite3 baselines on the tmpdir file system: event inserts into a table with two secondary indexes
 * (WAL, synchronous=NORMAL; one commit per event, then 100 and 1 000 per transaction), and the "last 50 events of
 * a run" read at 1 000 000 rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { figure, nowMs, summarize } from '../lib/stats.mjs';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

const SCHEMA = `
  CREATE TABLE events (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL);
  CREATE INDEX events_run_seq ON events(run_id, seq);
  CREATE INDEX events_type_ts ON events(type, ts);`;
const PAYLOAD = JSON.stringify({ attemptId: 'att_01J00000000000000000000000', from: 'running', to: 'validating', actor: 'planner:org_1/tok_1', detail: 'x'.repeat(60) });

function open(file) {
  const db = new Database(file);
  db.pragma('journal_mode = wal');
  db.pragma('synchronous = normal');
  db.exec(SCHEMA);
  return db;
}

/** Inserts per second with `batch` events per transaction, bounded by count and time. */
function insertRate(dir, name, batch, count, maxMs) {
  const db = open(path.join(dir, `${name}.db`));
  const ins = db.prepare('INSERT INTO events(run_id, seq, ts, type, payload) VALUES (?,?,?,?,?)');
  const one = (i) => ins.run(`run_${i % 50}`, i, new Date().toISOString(), 'attempt.state_changed', PAYLOAD);
  const tx = db.transaction((from, n) => {
    for (let k = 0; k < n; k++) one(from + k);
  });
  let done = 0;
  const t0 = nowMs();
  while (done < count && nowMs() - t0 < maxMs) {
    if (batch <= 1) {
      one(done);
      done++;
    } else {
      tx(done, batch);
      done += batch;
    }
  }
  const rate = (done * 1000) / (nowMs() - t0);
  db.close();
  return rate;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-sqlite-'));
  try {
    const rates = { 1: [], 100: [], 1000: [] };
    for (let r = 0; r < Math.min(rounds, 2); r++) {
      rates[1].push(insertRate(dir, `a${r}`, 1, 30_000, 1000));
      rates[100].push(insertRate(dir, `b${r}`, 100, 200_000, 1000));
      rates[1000].push(insertRate(dir, `c${r}`, 1000, 300_000, 1000));
    }
    // Fill to 1M rows: 2 000 runs × 500 events, interleaved so one run's rows are spread over the table.
    const rows = quick ? 300_000 : 1_000_000;
    const nruns = 2000;
    const db = open(path.join(dir, 'big.db'));
    const ins = db.prepare('INSERT INTO events(run_id, seq, ts, type, payload) VALUES (?,?,?,?,?)');
    const fill = db.transaction((from, n) => {
      for (let i = from; i < from + n; i++) ins.run(`run_${i % nruns}`, Math.floor(i / nruns), '2026-11-22T10:00:00.000Z', 'attempt.state_changed', PAYLOAD);
    });
    const tf = nowMs();
    for (let i = 0; i < rows; i += 10_000) fill(i, 10_000);
    const fillRate = (rows * 1000) / (nowMs() - tf);
    const q = db.prepare('SELECT id, seq, ts, type, payload FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 50');
    const reads = [];
    for (let r = 0; r < rounds; r++) {
      const samples = [];
      const t0 = nowMs();
      for (let i = 0; i < (quick ? 3000 : 5000) && nowMs() - t0 < 10_000; i++) {
        const runId = `run_${(i * 7919 + r * 104729) % nruns}`;
        const t = nowMs();
        const got = q.all(runId);
        samples.push(nowMs() - t);
        if (got.length !== 50) throw new Error(`expected 50 rows, got ${got.length}`);
      }
      reads.push(summarize(samples));
    }
    db.close();
    return [
      figure('raw.sqlite.insert-autocommit', 'raw: SQLite insert, WAL+NORMAL, 1 event per commit', 'events/s', rates[1], { better: 'higher' }),
      figure('raw.sqlite.insert-batch100', 'raw: SQLite insert, WAL+NORMAL, 100 events per commit', 'events/s', rates[100], { better: 'higher' }),
      figure('raw.sqlite.insert-batch1000', 'raw: SQLite insert, WAL+NORMAL, 1 000 events per commit', 'events/s', rates[1000], { better: 'higher' }),
      figure('raw.sqlite.fill-1m', `raw: SQLite bulk fill to ${rows.toLocaleString('en-US')} rows (10 000 per commit)`, 'events/s', [fillRate], { better: 'higher' }),
      figure('raw.sqlite.last50-p50', 'raw: SQLite last 50 events of a run at 1M rows, p50', 'ms', reads.map((x) => x.p50), { better: 'lower', noteSuffix: `; ${rows.toLocaleString('en-US')} rows` }),
      figure('raw.sqlite.last50-p99', 'raw: SQLite last 50 events of a run at 1M rows, p99', 'ms', reads.map((x) => x.p99), { better: 'lower', noteSuffix: `; ${rows.toLocaleString('en-US')} rows` }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
