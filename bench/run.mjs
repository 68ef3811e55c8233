#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark module in its own child process, joins each figure with its raw baseline
 * measured in the same run, prints a table and writes bench/results/latest.json.
 *
 *   node bench/run.mjs [--quick] [--only name[,name]] [--rounds N] [--out FILE] [--list]
 *
 * Bounded: the whole run stops starting new modules after 290 s and every module has its own time limit.
 * Loopback only: every server listens on 127.0.0.1.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './lib/machine.mjs';
import { round } from './lib/stats.mjs';
import { meets, targetFor, targetText } from './targets.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');

/**
 * The baselines a scenario needs come before it; context-only baselines (ws, git) come last, so that on a busy
 * machine the time budget skips them rather than a figure with a target.
 */
const MODULES = [
  { name: 'http', file: 'baselines/http.mjs', timeoutS: 45, maxRounds: 2, what: 'Fastify direct and raw ws relay prototype' },
  { name: 'sqlite', file: 'baselines/sqlite.mjs', timeoutS: 60, what: 'raw better-sqlite3 inserts and last-50 read at 1M rows' },
  { name: 'files', file: 'baselines/files.mjs', timeoutS: 30, maxRounds: 2, what: 'raw file write/read and hash+write throughput' },
  { name: 'relay-hop', file: 'scenarios/relay-hop.mjs', timeoutS: 100, what: 'real relay → connector → daemon vs daemon direct; MCP' },
  { name: 'daemon-ledger', file: 'scenarios/daemon-ledger.mjs', timeoutS: 90, maxRounds: 2, what: 'daemon event append, events.list at 1M, idle RSS' },
  { name: 'attempt-setup', file: 'scenarios/attempt-setup.mjs', timeoutS: 120, maxRounds: 2, what: 'dispatch → executor started vs raw worktree add; cancel' },
  { name: 'sandbox', file: 'scenarios/sandbox.mjs', timeoutS: 60, maxRounds: 3, what: 'a short child spawned in the sandbox vs unconfined' },
  { name: 'relay', file: 'scenarios/relay.mjs', timeoutS: 90, maxRounds: 2, what: 'relay RSS with 1 000 idle connectors; MCP vs /api/v2' },
  { name: 'replicas', file: 'scenarios/replicas.mjs', timeoutS: 240, maxRounds: 2, what: 'two relay replicas on PostgreSQL: runs.get forwarded vs one replica, req/s, idle connectors per replica' },
  { name: 'scale-runs', file: 'scenarios/scale-runs.mjs', timeoutS: 90, maxRounds: 1, what: '50 concurrent runs on one daemon, simulation executor' },
  { name: 'artifacts', file: 'scenarios/artifacts.mjs', timeoutS: 40, maxRounds: 2, what: 'daemon artifact store put/get vs raw file write/read' },
  { name: 'ws', file: 'baselines/ws.mjs', timeoutS: 30, maxRounds: 2, what: 'raw ws RTT and pipelined throughput (context)' },
  { name: 'git', file: 'baselines/git.mjs', timeoutS: 40, what: 'raw git worktree add, 100 and 2 000 files, ext4 and tmpfs (context)' },
];
const TOTAL_BUDGET_S = 290;

function parseArgs(argv) {
  const opts = { quick: false, only: null, rounds: null, out: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--only') opts.only = String(argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--rounds') opts.rounds = Number(argv[++i]);
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(`usage: node bench/run.mjs [--quick] [--only name[,name]] [--rounds N] [--out FILE] [--list]

  --quick        fewer rounds and smaller loads (smoke test, ~1-2 min)
  --only NAMES   run only these modules (see --list); writes bench/results/partial.json unless --out
  --rounds N     rounds per figure (default 3, quick 2)
  --out FILE     where to write the JSON results (default bench/results/latest.json)
  --list         list the modules and exit`);
      process.exit(0);
    } else {
      console.error(`unknown argument: ${a} (try --help)`);
      process.exit(2);
    }
  }
  if (opts.rounds !== null && !(Number.isInteger(opts.rounds) && opts.rounds >= 1 && opts.rounds <= 20)) {
    console.error('--rounds must be an integer between 1 and 20');
    process.exit(2);
  }
  return opts;
}

/** Run one module in a fresh process (its own process group), bounded by `timeoutS`. */
function runModule(mod, options, timeoutS) {
  return new Promise((resolve) => {
    const file = path.join(here, mod.file);
    const t0 = Date.now();
    const child = fork(path.join(here, 'lib/child.mjs'), [file, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env: { ...process.env, SLUICE_BENCH: '1' },
    });
    let result = null;
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout = (stdout + d).slice(-4000)));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('message', (m) => (result = m));
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* group already gone */
      }
    };
    const timer = setTimeout(() => {
      result ??= { ok: false, error: `timed out after ${timeoutS} s` };
      killGroup();
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Sweep helper servers a module may have left behind in its process group.
      killGroup();
      const seconds = (Date.now() - t0) / 1000;
      if (!result) result = { ok: false, error: `exited (${code ?? signal}) without results\n${stderr.slice(-1500)}` };
      resolve({ ...result, seconds, stdout, stderr });
    });
  });
}

function slug(s) {
  return String(s)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function fmt(x, unit) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const v = round(x, 3);
  const s = Math.abs(v) >= 10_000 ? Math.round(v).toLocaleString('en-US') : String(v);
  return unit ? `${s} ${unit}` : s;
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Normalise figures from every module, resolve baselines by id, compute ratio and pass/miss. */
function join(moduleResults) {
  const all = [];
  const seen = new Set();
  for (const { mod, figures } of moduleResults) {
    for (const f of figures ?? []) {
      let id = f.id ?? `${mod.name}.${slug(f.figure)}`;
      if (seen.has(id)) {
        console.log(`warning: figure id ${id} reported twice; the second (from ${mod.name}) is kept as ${id}#${mod.name}`);
        id = `${id}#${mod.name}`;
      }
      seen.add(id);
      all.push({ ...f, id, module: mod.name });
    }
  }
  const byId = new Map(all.map((f) => [f.id, f]));
  return all.map((f) => {
    let baseline = typeof f.baseline === 'number' ? f.baseline : null;
    let baselineFigure = f.baselineFigure ?? null;
    if (baseline === null && f.baselineId) {
      const b = byId.get(f.baselineId);
      if (b && Number.isFinite(b.value)) {
        baseline = b.value;
        baselineFigure = b.figure;
      }
    }
    const ratio = baseline !== null && Number.isFinite(f.value) && baseline !== 0 ? round(f.value / baseline, 3) : null;
    const t = targetFor(f);
    const pass = t ? meets(t, f.value, baseline) : null;
    return {
      id: f.id,
      module: f.module,
      figure: f.figure,
      unit: f.unit,
      value: Number.isFinite(f.value) ? round(f.value, 4) : null,
      baseline: baseline !== null ? round(baseline, 4) : null,
      baselineFigure,
      ratio,
      target: t ? targetText(t, f.unit) : null,
      targetGoal: t?.goal ?? null,
      result: t ? (pass === null ? 'n/a' : pass ? 'pass' : 'MISS') : null,
      note: f.note ?? null,
      ...(f.rounds ? { rounds: f.rounds } : {}),
    };
  });
}

function printTable(figures) {
  const rows = figures.map((f) => [
    f.figure,
    fmt(f.value, f.unit),
    fmt(f.baseline, f.unit),
    f.ratio !== null ? `${f.ratio}×` : '—',
    f.target ?? '',
    f.result ?? '',
  ]);
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', 'result'];
  const widths = head.map((h, i) => Math.min(i === 0 ? 64 : 24, Math.max(h.length, ...rows.map((r) => String(r[i]).length))));
  const line = (cells) => cells.map((c, i) => pad(i === 0 && String(c).length > widths[0] ? String(c).slice(0, widths[0] - 1) + '…' : c, widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const m of MODULES) console.log(`${pad(m.name, 14)} ${pad(m.file, 28)} ${m.what}`);
    return;
  }
  const unknown = (opts.only ?? []).filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown.length > 0) {
    console.error(`unknown module(s): ${unknown.join(', ')} (try --list)`);
    process.exit(2);
  }
  const selected = MODULES.filter((m) => !opts.only || opts.only.includes(m.name));
  const rounds = opts.rounds ?? (opts.quick ? 2 : 3);
  const startedAt = new Date();
  const t0 = Date.now();
  const machine = machineInfo(repoRoot);
  console.log(
    `sluice bench: ${selected.length} module(s), ${rounds} rounds${opts.quick ? ', quick' : ''}; ${machine.cpus} cpu, node ${machine.node}, ` +
      `git ${machine.git}, SQLite ${machine.sqlite}, tmpdir ${machine.tmpdir} (${machine.tmpdirFs})`,
  );
  if (machine.loadavgStart[0] > machine.cpus) {
    console.log(`warning: load average ${machine.loadavgStart[0]} on ${machine.cpus} cpus: other work is running; the figures will be noisy (recorded in the results)`);
  }
  const moduleResults = [];
  for (const mod of selected) {
    const file = path.join(here, mod.file);
    const elapsedS = (Date.now() - t0) / 1000;
    const remaining = TOTAL_BUDGET_S - elapsedS;
    if (!existsSync(file)) {
      console.log(`- ${pad(mod.name, 14)} missing (${mod.file} not written yet)`);
      moduleResults.push({ mod, status: 'missing', figures: [] });
      continue;
    }
    if (remaining < 10) {
      console.log(`- ${pad(mod.name, 14)} skipped: time budget of ${TOTAL_BUDGET_S} s used up`);
      moduleResults.push({ mod, status: 'skipped', figures: [] });
      continue;
    }
    process.stdout.write(`- ${pad(mod.name, 14)} ${mod.what} … `);
    const res = await runModule(mod, { rounds: Math.min(rounds, mod.maxRounds ?? rounds), quick: opts.quick }, Math.min(mod.timeoutS, remaining));
    if (res.ok) {
      console.log(`${res.figures.length} figures in ${res.seconds.toFixed(1)} s`);
      moduleResults.push({ mod, status: 'ok', seconds: res.seconds, figures: res.figures });
    } else {
      console.log(`FAILED after ${res.seconds.toFixed(1)} s`);
      console.log(
        String(res.error)
          .split('\n')
          .slice(0, 12)
          .map((l) => `    ${l}`)
          .join('\n'),
      );
      moduleResults.push({ mod, status: 'failed', seconds: res.seconds, error: String(res.error).slice(0, 4000), figures: [] });
    }
  }
  const figures = join(moduleResults);
  console.log('');
  printTable(figures);
  const misses = figures.filter((f) => f.result === 'MISS');
  const durationS = Math.round((Date.now() - t0) / 100) / 10;
  console.log(`\n${figures.length} figures, ${figures.filter((f) => f.result === 'pass').length} targets met, ${misses.length} missed; ${durationS} s`);
  const out = opts.out ?? path.join(here, 'results', opts.only || opts.quick ? 'partial.json' : 'latest.json');
  mkdirSync(path.dirname(out), { recursive: true });
  const doc = {
    generatedAt: startedAt.toISOString(),
    durationS,
    options: { rounds, quick: opts.quick, only: opts.only },
    machine: { ...machine, loadavgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    modules: moduleResults.map(({ mod, status, seconds, error }) => ({ name: mod.name, file: mod.file, status, seconds: seconds ? round(seconds, 3) : null, ...(error ? { error } : {}) })),
    figures,
  };
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), out)}`);
  if (moduleResults.some((m) => m.status === 'failed')) process.exitCode = 1;
}

await main();
