/**
 * The relay alone, against the test kit's fake connectors (real ws clients, real Ed25519 keys) in this process:
 * - relay RSS and heartbeat CPU with 1 000 idle connectors (heartbeat 1 s so the CPU cost is measurable; the
 *   default 15 s costs 1/15 of it);
 * - `runs.get` over `/api/v2` and the same call as an MCP `tools/call`, through one connector that answers at once;
 * - throughput through that one connector.
 * The call figures are measured first, with only the fast connector online, so the idle sockets' heartbeats do
 * not count against them.
 * The relay runs from its built package in its own process (fixtures/relay-bench-server.mjs). Loopback only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteRelayStore } from '@sluice/relay';
import { FakeConnector } from '@sluice/test-kit';
import { buildRequest, latency, throughput } from '../lib/http-load.mjs';
import { pool } from '../lib/pool.mjs';
import { cpuMs, rssBytes, startProcess, stopChild } from '../lib/proc.mjs';
import { figure, nowMs, round, sleep } from '../lib/stats.mjs';

const MB = 1024 * 1024;
const launcher = fileURLToPath(new URL('../fixtures/relay-bench-server.mjs', import.meta.url));
const T = '2026-11-23T10:00:00.000Z';
const RUN_ID = 'run_01JD0000000000000000000001';

function runDetail() {
  return {
    runId: RUN_ID, workspaceId: 'bench-ws', title: 'bench', state: 'open', baseRef: 'HEAD', baseCommit: 'a'.repeat(40),
    branch: `sluice/run/${RUN_ID}`, headCommit: 'a'.repeat(40), createdBy: 'planner:org_x/tok_y', createdAt: T, updatedAt: T, steps: [],
  };
}

/** Connect one fake connector (the kit's); `answer` makes it answer verb requests at once. */
async function connectOne(base, origin, inst, { workspaces = [], answer = false } = {}) {
  const c = new FakeConnector(base, workspaces, { instanceId: inst.id, privateKey: inst.key, relayOrigin: origin });
  c.deflate = false;
  if (answer) {
    const detail = runDetail();
    c.handlers['runs.get'] = () => detail;
    c.handlers['runs.open'] = () => ({ ...detail, steps: undefined });
  }
  const first = await c.connect();
  if (first.type !== 'welcome') throw new Error(`the relay did not welcome the fake connector: ${JSON.stringify(first)}`);
  return c;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const idleCount = quick ? 300 : 1000;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-relay-'));
  const store = new SqliteRelayStore(join(dir, 'relay.db'));
  const org = await store.createOrg('bench');
  const token = (await store.createToken({ orgId: org.id, name: 'bench', scopes: ['runs:read', 'runs:write'] })).secret;
  const instances = [];
  for (let i = 0; i <= idleCount; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const enr = await store.createEnrollmentToken(org.id, 600_000);
    const { createHash } = await import('node:crypto');
    const rec = await store.enroll(createHash('sha256').update(enr.secret).digest('hex'), { name: `c${i}`, publicKey: publicKey.export({ format: 'jwk' }).x });
    instances.push({ id: rec.id, key: privateKey });
  }
  await store.close();

  const relay = await startProcess(launcher, ['--port', '0', '--heartbeat-ms', '1000', '--log-level', 'warn'], {
    env: { ...process.env, SLUICE_RELAY_HOME: dir, ...(process.env.RELAY_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.RELAY_BENCH_NODE_OPTIONS } : {}) },
    ready: (line) => /bench relay listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1],
  });
  const base = relay.info;
  const port = Number(new URL(base).port);
  const sockets = [];
  try {
    await sleep(1000);
    const rssEmpty = rssBytes(relay.pid) / MB;
    const fast = await connectOne(base, base, instances[0], { answer: true, workspaces: [{ workspaceId: 'bench-ws', name: 'bench', executors: ['simulation'], validations: [], approvalPolicy: 'none', remoteApprovals: true }] });
    sockets.push(fast);
    // Route the run to the fast connector (the idle ones share no workspace).
    const opened = await fetch(`${base}/api/v2/runs.open`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ workspaceId: 'bench-ws' }) });
    if (!opened.ok) throw new Error(`runs.open failed: ${opened.status} ${await opened.text()}`);
    const apiReq = buildRequest({ port, path: '/api/v2/runs.get', headers: { authorization: `Bearer ${token}` }, body: { runId: RUN_ID } });
    const mcpReq = (i) =>
      buildRequest({
        port,
        path: '/mcp',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: { jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'runs_get', arguments: { runId: RUN_ID } } },
      });
    const mcpOk = (b) => b.includes('"result"') && !b.includes('"isError":true');
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const api = await latency({ port, requests: apiReq, count: quick ? 300 : 1500 });
      const mcp = await latency({ port, requests: mcpReq, count: quick ? 100 : 400, check: (b) => mcpOk(b.toString()) });
      const durationMs = quick ? 1500 : 3000;
      const c0 = cpuMs(relay.pid);
      const tput = await throughput({ port, requests: apiReq, connections: 4, window: 16, durationMs, warmupMs: 500 });
      // CPU the relay process spent per call (warm-up calls estimated at the measured rate): independent of how
      // busy the rest of the machine is, unlike the wall-clock rate.
      tput.cpuUsPerCall = ((cpuMs(relay.pid) - c0) * 1000) / (tput.completed * ((durationMs + 500) / durationMs));
      if (api.errors || mcp.errors) throw new Error(`errors: api ${api.firstError ?? ''} mcp ${mcp.firstError ?? ''}`);
      per.push({ api, mcp, tput });
    }
    const t0 = nowMs();
    sockets.push(...(await pool(instances.slice(1), 50, (inst) => connectOne(base, base, inst))));
    const connectMs = nowMs() - t0;
    await sleep(2000);
    const rssIdle = rssBytes(relay.pid) / MB;
    const cpu0 = cpuMs(relay.pid);
    const w0 = nowMs();
    await sleep(quick ? 3000 : 6000);
    const cpuPerSec = (cpuMs(relay.pid) - cpu0) / ((nowMs() - w0) / 1000);
    return [
      { id: 'relay.idle-connectors.rss', figure: `relay RSS with ${idleCount === 1000 ? '1 000' : idleCount} idle connectors`, unit: 'MB', value: round(rssIdle), note: `VmRSS; ${round(rssEmpty)} MB before any connector; ${idleCount + 1} sockets connected in ${round(connectMs / 1000)} s` },
      { id: 'relay.idle-connectors.heartbeat-cpu', figure: `relay CPU with ${idleCount} idle connectors, heartbeat 1 s`, unit: 'ms CPU/s', value: round(cpuPerSec), note: `at the default 15 s heartbeat about ${round(cpuPerSec / 15)} ms CPU per second` },
      figure('relay.fake-connector.api-v2.p50', 'runs.get via /api/v2 through a fake connector, p50', 'ms', per.map((x) => x.api.p50)),
      figure('relay.fake-connector.api-v2.p99', 'runs.get via /api/v2 through a fake connector, p99', 'ms', per.map((x) => x.api.p99)),
      figure('relay.fake-connector.mcp.p50', 'MCP tool call p50 (runs_get, fake connector)', 'ms', per.map((x) => x.mcp.p50), { baselineId: 'relay.fake-connector.api-v2.p50' }),
      figure('relay.fake-connector.rps', 'runs.get throughput through one fake connector (4 conns x 16)', 'req/s', per.map((x) => x.tput.rps)),
      figure('relay.fake-connector.cpu-per-call', 'relay CPU per /api/v2 runs.get call (fake connector)', 'µs', per.map((x) => x.tput.cpuUsPerCall), {
        note: 'relay process user+system CPU over the throughput run / calls; 1 000 000 / this = calls per second one core can serve',
      }),
    ];
  } finally {
    for (const s of sockets) s.close();
    await stopChild(relay.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(JSON.stringify(await run({ rounds: quick ? 1 : 3, quick }), null, 2));
  process.exit(0);
}
