/**
 * Two relay replicas on one PostgreSQL database (a throwaway cluster started here, like the tests'), against the
 * test kit's fake connectors:
 * - `runs.get` through replica B when the answering connector's socket is on replica A (forwarded through
 *   PostgreSQL), against the same call on A itself (one replica, no forwarding);
 * - throughput through B (forwarded) and across both replicas at once;
 * - RSS of each replica with idle connectors split between them, and the per-connector cost that gives.
 * Loopback only.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PostgresRelayStore } from '@sluice/relay';
import { FakeConnector, freshPgDatabase, postgresBinDir, PG_URL_ENV, startTestPostgres } from '@sluice/test-kit';
import { buildRequest, latency, throughput } from '../lib/http-load.mjs';
import { pool } from '../lib/pool.mjs';
import { rssBytes, startProcess, stopChild } from '../lib/proc.mjs';
import { figure, nowMs, round, sleep } from '../lib/stats.mjs';

const MB = 1024 * 1024;
const launcher = fileURLToPath(new URL('../fixtures/relay-bench-server.mjs', import.meta.url));
const T = '2026-11-23T10:00:00.000Z';
const RUN_ID = 'run_01JD0000000000000000000002';
/** Every replica signs challenges for one public origin, as behind a load balancer. */
const PUBLIC_URL = 'http://relay.bench';

const detail = {
  runId: RUN_ID, workspaceId: 'bench-ws', title: 'bench', state: 'open', baseRef: 'HEAD', baseCommit: 'a'.repeat(40),
  branch: `sluice/run/${RUN_ID}`, headCommit: 'a'.repeat(40), createdBy: 'planner:org_x/tok_y', createdAt: T, updatedAt: T, steps: [],
};

async function startReplica(dbUrl) {
  const p = await startProcess(launcher, ['--port', '0', '--heartbeat-ms', '15000', '--log-level', 'warn', '--db', dbUrl, '--public-url', PUBLIC_URL], {
    ready: (line) => /bench relay listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1],
  });
  return { ...p, base: p.info, port: Number(new URL(p.info).port) };
}

async function connectOne(base, inst, opts = {}) {
  const c = new FakeConnector(base, opts.workspaces ?? [], { instanceId: inst.id, privateKey: inst.key, relayOrigin: PUBLIC_URL });
  c.deflate = false;
  if (opts.answer) {
    c.handlers['runs.get'] = () => detail;
    c.handlers['runs.open'] = () => ({ ...detail, steps: undefined });
  }
  await c.connect();
  return c;
}

/** The run's test cluster when the bench runs under vitest's env, else one of our own. */
async function cluster() {
  if (process.env[PG_URL_ENV]) return { stop: async () => {} };
  const bin = postgresBinDir();
  if (!bin) throw new Error('the PostgreSQL server is not installed: apt-get install postgresql (Debian package `postgresql`)');
  const pg = await startTestPostgres(bin);
  process.env[PG_URL_ENV] = pg.url;
  return pg;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const idleCount = quick ? 400 : 1500;
  const pg = await cluster();
  const db = await freshPgDatabase();
  const procs = [];
  const sockets = [];
  try {
    const store = await PostgresRelayStore.open(db.url);
    const org = await store.createOrg('bench');
    const token = (await store.createToken({ orgId: org.id, name: 'bench', scopes: ['runs:read', 'runs:write'] })).secret;
    const instances = await pool(Array.from({ length: idleCount + 1 }, (_, i) => i), 8, async (i) => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const enr = await store.createEnrollmentToken(org.id, 600_000);
      const rec = await store.enroll(createHash('sha256').update(enr.secret).digest('hex'), { name: `c${i}`, publicKey: publicKey.export({ format: 'jwk' }).x });
      return { id: rec.id, key: privateKey };
    });
    await store.close();

    const a = await startReplica(db.url);
    procs.push(a);
    const b = await startReplica(db.url);
    procs.push(b);
    await sleep(1000);
    const rssEmpty = [rssBytes(a.pid) / MB, rssBytes(b.pid) / MB];
    const ws = [{ workspaceId: 'bench-ws', name: 'bench', executors: ['simulation'], validations: [], approvalPolicy: 'none', remoteApprovals: true }];
    sockets.push(await connectOne(a.base, instances[0], { answer: true, workspaces: ws }));
    const opened = await fetch(`${b.base}/api/v2/runs.open`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ workspaceId: 'bench-ws' }) });
    if (!opened.ok) throw new Error(`runs.open through B failed: ${opened.status} ${await opened.text()}`);
    const req = (port) => buildRequest({ port, path: '/api/v2/runs.get', headers: { authorization: `Bearer ${token}` }, body: { runId: RUN_ID } });
    const check = (body) => body.includes(RUN_ID);
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [a, b] : [b, a];
      const lat = new Map();
      for (const x of order) lat.set(x, await latency({ port: x.port, requests: req(x.port), count: quick ? 100 : 300, warmup: 20, check, maxMs: 8000 }));
      const durationMs = quick ? 1500 : 2500;
      const viaB = await throughput({ port: b.port, requests: req(b.port), connections: 4, window: 8, durationMs, warmupMs: 400 });
      const viaA = await throughput({ port: a.port, requests: req(a.port), connections: 4, window: 8, durationMs, warmupMs: 400 });
      const [both1, both2] = await Promise.all([a, b].map((x) => throughput({ port: x.port, requests: req(x.port), connections: 2, window: 8, durationMs, warmupMs: 400 })));
      per.push({ a: lat.get(a), b: lat.get(b), viaA, viaB, both: both1.rps + both2.rps, errors: viaB.errors + viaA.errors + both1.errors + both2.errors });
    }

    const t0 = nowMs();
    const idle = instances.slice(1).map((inst, k) => ({ inst, base: k % 2 ? b.base : a.base }));
    sockets.push(...(await pool(idle, 50, (x) => connectOne(x.base, x.inst))));
    const connectMs = nowMs() - t0;
    await sleep(2000);
    const rssIdle = [rssBytes(a.pid) / MB, rssBytes(b.pid) / MB];
    const perConnKb = ((rssIdle[0] - rssEmpty[0] + rssIdle[1] - rssEmpty[1]) * 1024) / idleCount;
    const projected10k = rssEmpty[0] + rssEmpty[1] + (perConnKb * 10_000) / 1024;
    const errors = per.reduce((n, x) => n + x.errors, 0);
    const errNote = errors ? `; ${errors} errors` : '';
    return [
      figure('replicas.runs-get.one-replica.p50', 'runs.get on replica A, connector on A (one replica), p50', 'ms', per.map((x) => x.a.p50), { noteSuffix: errNote }),
      figure('replicas.runs-get.forwarded.p50', 'runs.get on replica B, connector on A (forwarded through PostgreSQL), p50 (baseline: one replica)', 'ms', per.map((x) => x.b.p50), { noteSuffix: errNote, baselineId: 'replicas.runs-get.one-replica.p50' }),
      figure('replicas.runs-get.forwarded.p99', 'runs.get on replica B, connector on A, p99', 'ms', per.map((x) => x.b.p99), { noteSuffix: errNote }),
      figure('replicas.rps.one-replica', 'runs.get throughput on A, connector on A (4 conns x 8)', 'req/s', per.map((x) => x.viaA.rps), { noteSuffix: errNote }),
      figure('replicas.rps.forwarded', 'runs.get throughput on B, connector on A (4 conns x 8; baseline: one replica)', 'req/s', per.map((x) => x.viaB.rps), { noteSuffix: errNote, baselineId: 'replicas.rps.one-replica' }),
      figure('replicas.rps.across-both', 'runs.get throughput on A and B at once, one connector on A (2+2 conns x 8)', 'req/s', per.map((x) => x.both), { noteSuffix: errNote }),
      {
        id: 'replicas.idle-connectors.rss',
        figure: `RSS of two replicas with ${idleCount} idle connectors split between them`,
        unit: 'MB',
        value: round(rssIdle[0] + rssIdle[1]),
        note: `A ${round(rssIdle[0])} MB, B ${round(rssIdle[1])} MB (${round(rssEmpty[0] + rssEmpty[1])} MB before any connector); ${round(perConnKb)} KB per idle connector; ${idleCount} sockets connected in ${round(connectMs / 1000)} s`,
      },
      {
        id: 'replicas.idle-connectors.projected-10k',
        figure: 'projected RSS of two replicas with 10 000 idle connectors (linear from the measured per-connector cost)',
        unit: 'MB',
        value: round(projected10k),
        note: `not measured at 10 000: this 2-core machine also runs the 10 000 client sockets; PostgreSQL's own memory not included`,
      },
    ];
  } finally {
    for (const s of sockets) s.close();
    for (const p of procs) await stopChild(p.child);
    await db.drop().catch(() => undefined);
    await pg.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(JSON.stringify(await run({ rounds: quick ? 1 : 3, quick }), null, 2));
  process.exit(0);
}
