/**
 * Relay hop on the real stack (daemon, relay, connector as separate processes on loopback):
 * `runs.get` through `/api/v2` → relay → connector → daemon against the same verb on the daemon's `/api/v1`,
 * pairwise per round; throughput through one connector; one MCP tool call (raw JSON-RPC POST and the MCP SDK
 * client) against the `/api/v2` call; the daemon's idle RSS before any load.
 */
import { buildRequest, latency, throughput } from '../lib/http-load.mjs';
import { cpuMs, rssBytes, peakRssBytes } from '../lib/proc.mjs';
import { figure, median, nowMs, round, sleep, spread, summarize } from '../lib/stats.mjs';
import { McpPlanner, HttpPlanner, startBenchStack } from './stack.mjs';

const MB = 1024 * 1024;

/**
 * A second, shorter pass on a fresh stack with every process logging at `warn`: the same throughput load and
 * CPU accounting, to show what the per-request `info` log lines cost.
 */
async function quietLogsPass(rounds, quick) {
  const stack = await startBenchStack({ heartbeatMs: 15_000, logLevel: 'warn' });
  try {
    const pids = { relay: stack.relay.proc.pid, connector: stack.connector.proc.pid, daemon: stack.daemon.proc.pid };
    const api = new HttpPlanner(stack.relay.url, stack.org.plannerToken);
    const { runId } = await api.call('runs.open', { workspaceId: stack.workspaceId, title: 'bench' });
    const rPort = Number(new URL(stack.relay.url).port);
    const requests = buildRequest({ port: rPort, path: '/api/v2/runs.get', headers: { authorization: `Bearer ${stack.org.plannerToken}` }, body: { runId } });
    // Warm the three processes up as much as the main pass did before its throughput runs (JIT, caches).
    await latency({ port: rPort, requests, count: quick ? 1000 : 3000, warmup: 0, maxMs: quick ? 2000 : 3000 });
    await throughput({ port: rPort, requests, connections: 4, window: 8, durationMs: quick ? 1000 : 2500, warmupMs: 0 });
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const before = Object.values(pids).map((pid) => cpuMs(pid));
      const t = await throughput({ port: rPort, requests, connections: 4, window: 8, durationMs: quick ? 1500 : 2000, warmupMs: 400 });
      const cpu = Object.values(pids).reduce((a, pid, i) => a + cpuMs(pid) - before[i], 0);
      per.push({ rps: t.rps, cpuTotal: (cpu * 1000) / t.sent, errors: t.errors });
    }
    return per;
  } finally {
    await stack.stop();
  }
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  // The shipped default is info; SLUICE_BENCH_LOG_LEVEL=warn measures the same path without per-request log lines.
  const logLevel = process.env.SLUICE_BENCH_LOG_LEVEL ?? 'info';
  const figures = await mainPass({ rounds, quick, logLevel });
  if (logLevel !== 'info') return figures;
  const per = await quietLogsPass(Math.min(rounds, 2), quick);
  const rps = per.map((x) => x.rps);
  const cpu = per.map((x) => x.cpuTotal);
  const errors = per.reduce((a, x) => a + x.errors, 0);
  const note = (v) => `median of ${v.length} rounds (${spread(v)}); a fresh stack with relay, connector and daemon logging at warn${errors ? `; ${errors} errors` : ''}`;
  figures.push(
    { id: 'relay.rps.logs-warn', figure: 'runs.get throughput through one connector, logs at warn (baseline: at info)', unit: 'req/s', value: round(median(rps)), baselineId: 'relay.rps', note: note(rps), rounds: rps.map((v) => round(v)) },
    { id: 'cpu.per-request.total.logs-warn', figure: 'CPU per runs.get, relay + connector + daemon, logs at warn (baseline: at info)', unit: 'µs', value: round(median(cpu)), baselineId: 'cpu.per-request.total', note: note(cpu), rounds: cpu.map((v) => round(v)) },
  );
  return figures;
}

async function mainPass({ rounds, quick, logLevel }) {
  const stack = await startBenchStack({ heartbeatMs: 15_000, logLevel });
  try {
    const daemonPid = stack.daemon.proc.pid;
    const relayPid = stack.relay.proc.pid;
    const connectorPid = stack.connector.proc.pid;
    const api = new HttpPlanner(stack.relay.url, stack.org.plannerToken);
    const opened = await api.call('runs.open', { workspaceId: stack.workspaceId, title: 'bench' });
    const runId = opened.id ?? opened.runId;
    // Idle: the stack is up, one run is open, nothing is being asked.
    await sleep(1500);
    const daemonIdleRss = rssBytes(daemonPid) / MB;

    const dPort = Number(new URL(stack.daemon.url).port);
    const rPort = Number(new URL(stack.relay.url).port);
    const body = { runId };
    const direct = { port: dPort, requests: buildRequest({ port: dPort, path: '/api/v1/verbs/runs.get', headers: { authorization: `Bearer ${stack.daemon.token}` }, body }) };
    const relay = { port: rPort, requests: buildRequest({ port: rPort, path: '/api/v2/runs.get', headers: { authorization: `Bearer ${stack.org.plannerToken}` }, body }) };
    const mcpReq = (i) =>
      buildRequest({
        port: rPort,
        path: '/mcp',
        headers: { authorization: `Bearer ${stack.org.plannerToken}`, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: { jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'runs_get', arguments: body } },
      });
    const mcpOk = (b) => b.includes('"result"') && !b.includes('"isError":true');
    const check = (b) => b.includes(runId);

    const count = quick ? 800 : 2000;
    const per = [];
    const sdk = new McpPlanner(stack.relay.url, stack.org.plannerToken);
    await sdk.connect();
    try {
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? ['direct', 'relay'] : ['relay', 'direct'];
        const lat = {};
        for (const k of order) lat[k] = await latency({ ...(k === 'direct' ? direct : relay), count, warmup: 200, check, maxMs: 2000 });
        const mcpRaw = await latency({ port: rPort, requests: mcpReq, count: Math.floor(count / 2), warmup: 100, check: mcpOk, maxMs: 2000 });
        const sdkSamples = [];
        const t0 = nowMs();
        for (let i = 0; i < (quick ? 100 : 250) + 20 && nowMs() - t0 < 2000; i++) {
          const t = nowMs();
          await sdk.call('runs.get', body);
          if (i >= 20) sdkSamples.push(nowMs() - t);
        }
        const tput = {};
        const cpu = {};
        for (const k of order) {
          const pids = { relay: relayPid, connector: connectorPid, daemon: daemonPid };
          const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
          tput[k] = await throughput({ ...(k === 'direct' ? direct : relay), connections: 4, window: 8, durationMs: quick ? 1500 : 2000, warmupMs: 400 });
          // CPU per request, from the OS accounting of each process over the whole call (warm-up and drain included).
          const total = tput[k].sent;
          cpu[k] = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, ((cpuMs(pid) - before[n]) * 1000) / total]));
        }
        per.push({ lat, mcpRaw, sdk: summarize(sdkSamples), tput, cpu });
      }
    } finally {
      await sdk.close();
    }
    const errors = per.reduce((a, x) => a + x.lat.direct.errors + x.lat.relay.errors + x.mcpRaw.errors + x.tput.direct.errors + x.tput.relay.errors, 0);
    const firstError = per.map((x) => x.lat.relay.firstError ?? x.mcpRaw.firstError ?? x.tput.relay.firstError ?? x.tput.direct.firstError).find(Boolean);
    const errNote = `${logLevel === 'info' ? '' : `; all three processes logging at ${logLevel}`}${errors ? `; ${errors} non-2xx answers (first: ${firstError})` : ''}`;
    return [
      { id: 'daemon.idle-rss.stack', figure: 'daemon idle RSS in the stack (one workspace shared, one open run)', unit: 'MB', value: round(daemonIdleRss), note: 'VmRSS of `sluice daemon start` 1.5 s after start-up, before any load' },
      figure('daemon.direct.p50', 'daemon direct runs.get p50 (/api/v1)', 'ms', per.map((x) => x.lat.direct.p50), { noteSuffix: errNote }),
      figure('daemon.direct.p99', 'daemon direct runs.get p99 (/api/v1)', 'ms', per.map((x) => x.lat.direct.p99), { noteSuffix: errNote }),
      figure('relay.api-v2.p50', 'runs.get via /api/v2 → relay → connector → daemon, p50', 'ms', per.map((x) => x.lat.relay.p50), { noteSuffix: errNote, baselineId: 'daemon.direct.p50' }),
      figure('relay.api-v2.p99', 'runs.get via /api/v2 → relay → connector → daemon, p99', 'ms', per.map((x) => x.lat.relay.p99), { noteSuffix: errNote, baselineId: 'daemon.direct.p99' }),
      figure('relay.hop.added-p50', 'relay hop added p50 (vs daemon direct; baseline: raw prototype hop)', 'ms', per.map((x) => x.lat.relay.p50 - x.lat.direct.p50), { noteSuffix: errNote, baselineId: 'raw.proto-hop.added-p50' }),
      figure('relay.hop.added-p99', 'relay hop added p99 (vs daemon direct; baseline: raw prototype hop)', 'ms', per.map((x) => x.lat.relay.p99 - x.lat.direct.p99), { noteSuffix: errNote, baselineId: 'raw.proto-hop.added-p99' }),
      figure('daemon.direct.rps', 'daemon direct runs.get throughput (4 conns × 8 pipelined)', 'req/s', per.map((x) => x.tput.direct.rps), { noteSuffix: errNote, baselineId: 'raw.fastify.rps' }),
      figure('relay.rps', 'runs.get throughput through one connector (4 conns × 8 pipelined; baseline: raw prototype)', 'req/s', per.map((x) => x.tput.relay.rps), { noteSuffix: errNote, baselineId: 'raw.proto-hop.rps' }),
      figure('mcp.raw.p50', 'MCP tools/call runs_get, raw JSON-RPC POST, p50 (baseline: /api/v2 call)', 'ms', per.map((x) => x.mcpRaw.p50), { noteSuffix: errNote, baselineId: 'relay.api-v2.p50' }),
      figure('mcp.call.p50', 'MCP tool call end to end, MCP SDK client, p50 (baseline: /api/v2 call)', 'ms', per.map((x) => x.sdk.p50), { noteSuffix: errNote, baselineId: 'relay.api-v2.p50' }),
      figure('mcp.call.p99', 'MCP tool call end to end, MCP SDK client, p99', 'ms', per.map((x) => x.sdk.p99), { noteSuffix: errNote }),
      figure('cpu.per-request.daemon-direct', 'CPU per runs.get, daemon called directly (baseline: raw Fastify)', 'µs', per.map((x) => x.cpu.direct.daemon), { noteSuffix: errNote, baselineId: 'raw.cpu.fastify-direct' }),
      figure('cpu.per-request.relay', 'CPU per runs.get through the relay: relay process (baseline: prototype relay)', 'µs', per.map((x) => x.cpu.relay.relay), { noteSuffix: errNote, baselineId: 'raw.cpu.proto-relay' }),
      figure('cpu.per-request.connector', 'CPU per runs.get through the relay: connector process', 'µs', per.map((x) => x.cpu.relay.connector), { noteSuffix: errNote }),
      figure('cpu.per-request.daemon', 'CPU per runs.get through the relay: daemon process', 'µs', per.map((x) => x.cpu.relay.daemon), { noteSuffix: errNote }),
      figure('cpu.per-request.total', 'CPU per runs.get through the relay: relay + connector + daemon (baseline: prototype relay + backend)', 'µs', per.map((x) => x.cpu.relay.relay + x.cpu.relay.connector + x.cpu.relay.daemon), { noteSuffix: errNote, baselineId: 'raw.cpu.proto-total' }),
      figure('cpu.per-request.connector-daemon', 'CPU per runs.get through the relay: connector + daemon (baseline: prototype backend)', 'µs', per.map((x) => x.cpu.relay.connector + x.cpu.relay.daemon), { noteSuffix: errNote, baselineId: 'raw.cpu.proto-backend' }),
      { id: 'rss.after-load.relay', figure: 'relay RSS after the load (peak)', unit: 'MB', value: round(rssBytes(relayPid) / MB), note: `peak ${round(peakRssBytes(relayPid) / MB)} MB` },
      { id: 'rss.after-load.connector', figure: 'connector RSS after the load (peak)', unit: 'MB', value: round(rssBytes(connectorPid) / MB), note: `peak ${round(peakRssBytes(connectorPid) / MB)} MB` },
      { id: 'rss.after-load.daemon', figure: 'daemon RSS after the load (peak)', unit: 'MB', value: round(rssBytes(daemonPid) / MB), note: `peak ${round(peakRssBytes(daemonPid) / MB)} MB` },
    ];
  } finally {
    await stack.stop();
  }
}
