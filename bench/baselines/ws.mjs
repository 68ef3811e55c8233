/** Raw ws baselines: request/response RTT with one in flight, and pipelined throughput (window 64). */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startProcess } from '../lib/proc.mjs';
import { figure, nowMs, summarize } from '../lib/stats.mjs';

const server = fileURLToPath(new URL('../fixtures/ws-echo-server.mjs', import.meta.url));
const frame = (id) => JSON.stringify({ type: 'request', id, verb: 'runs.get', input: { runId: 'run_01J00000000000000000000000' }, actor: 'planner:org_x/tok_y', deadlineMs: 30000 });

function open(port) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function rtt(ws, count, warmup, maxMs) {
  const samples = [];
  const t0 = nowMs();
  for (let i = 0; i < warmup + count && nowMs() - t0 < maxMs; i++) {
    const t = nowMs();
    await new Promise((resolve) => {
      ws.once('message', resolve);
      ws.send(frame(String(i)));
    });
    if (i >= warmup) samples.push(nowMs() - t);
  }
  return summarize(samples);
}

async function pipelined(ws, window, durationMs, warmupMs) {
  let counting = false;
  let stop = false;
  let done = 0;
  let inflight = 0;
  let id = 0;
  const pump = () => {
    while (!stop && inflight < window) {
      ws.send(frame(String(++id)));
      inflight++;
    }
  };
  const onMessage = () => {
    inflight--;
    if (counting) done++;
    pump();
  };
  ws.on('message', onMessage);
  pump();
  await new Promise((r) => setTimeout(r, warmupMs));
  counting = true;
  const t0 = nowMs();
  await new Promise((r) => setTimeout(r, durationMs));
  counting = false;
  const rate = (done * 1000) / (nowMs() - t0);
  stop = true;
  const until = nowMs() + 2000;
  while (inflight > 0 && nowMs() < until) await new Promise((r) => setTimeout(r, 10));
  ws.off('message', onMessage);
  return rate;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const srv = await startProcess(server);
  try {
    const per = [];
    for (let r = 0; r < rounds; r++) {
      const ws = await open(srv.info.port);
      const lat = await rtt(ws, quick ? 2000 : 4000, 1000, 15_000);
      const rate1 = await pipelined(ws, 1, quick ? 1000 : 1500, 300);
      const rate64 = await pipelined(ws, 64, quick ? 1000 : 2000, 300);
      ws.close();
      per.push({ lat, rate1, rate64 });
    }
    return [
      figure('raw.ws.rtt-p50', 'raw: ws request/response RTT p50', 'ms', per.map((x) => x.lat.p50), { better: 'lower' }),
      figure('raw.ws.rtt-p99', 'raw: ws request/response RTT p99', 'ms', per.map((x) => x.lat.p99), { better: 'lower' }),
      figure('raw.ws.msgs-w1', 'raw: ws messages/s, sequential', 'msg/s', per.map((x) => x.rate1), { better: 'higher' }),
      figure('raw.ws.msgs-w64', 'raw: ws messages/s, 64 in flight', 'msg/s', per.map((x) => x.rate64), { better: 'higher' }),
    ];
  } finally {
    await srv.stop();
  }
}
