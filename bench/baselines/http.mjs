/**
 * Raw HTTP baselines: Fastify called directly, and the raw relay prototype (HTTP → relay → one ws → connector →
 * `fastify.inject`) in front of the same app. Latency deltas are taken pairwise within a round.
 */
import { fileURLToPath } from 'node:url';
import { buildRequest, latency, throughput } from '../lib/http-load.mjs';
import { cpuMs, startProcess } from '../lib/proc.mjs';
import { figure } from '../lib/stats.mjs';

const fixture = (name) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const BODY = { id: 'run_01J00000000000000000000000', verbose: false, pad: 'x'.repeat(120) };

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const relay = await startProcess(fixture('proto-relay.mjs'));
  const backend = await startProcess(fixture('proto-backend.mjs'), [String(relay.info.wsPort)]);
  try {
    const direct = { port: backend.info.port, requests: buildRequest({ port: backend.info.port, path: '/rpc', body: BODY }) };
    const hop = { port: relay.info.port, requests: buildRequest({ port: relay.info.port, path: '/rpc', body: BODY }) };
    const count = quick ? 1200 : 2500;
    const perRound = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [direct, hop] : [hop, direct];
      const res = new Map();
      for (const target of order) res.set(target, await latency({ ...target, count, warmup: 300 }));
      const d = res.get(direct);
      const h = res.get(hop);
      const tput = {};
      const cpu = {};
      for (const [name, target] of r % 2 === 0 ? [['direct', direct], ['hop', hop]] : [['hop', hop], ['direct', direct]]) {
        const before = { relay: cpuMs(relay.pid), backend: cpuMs(backend.pid) };
        tput[name] = await throughput({ ...target, connections: 4, window: 8, durationMs: quick ? 1200 : 2000, warmupMs: 400 });
        cpu[name] = { relay: ((cpuMs(relay.pid) - before.relay) * 1000) / tput[name].sent, backend: ((cpuMs(backend.pid) - before.backend) * 1000) / tput[name].sent };
      }
      perRound.push({ d, h, tput, cpu, errors: d.errors + h.errors + tput.direct.errors + tput.hop.errors });
    }
    const pick = (f) => perRound.map(f);
    const errors = perRound.reduce((a, x) => a + x.errors, 0);
    const noteSuffix = errors ? `; ${errors} errors` : '';
    return [
      figure('raw.fastify.p50', 'raw: Fastify direct call p50', 'ms', pick((x) => x.d.p50), { better: 'lower', noteSuffix }),
      figure('raw.fastify.p99', 'raw: Fastify direct call p99', 'ms', pick((x) => x.d.p99), { better: 'lower', noteSuffix }),
      figure('raw.fastify.rps', 'raw: Fastify direct throughput (4 conns × 8 pipelined)', 'req/s', pick((x) => x.tput.direct.rps), { better: 'higher', noteSuffix }),
      figure('raw.proto-hop.added-p50', 'raw: ws relay prototype hop, added p50', 'ms', pick((x) => x.h.p50 - x.d.p50), { better: 'lower', noteSuffix }),
      figure('raw.proto-hop.added-p99', 'raw: ws relay prototype hop, added p99', 'ms', pick((x) => x.h.p99 - x.d.p99), { better: 'lower', noteSuffix }),
      figure('raw.proto-hop.rps', 'raw: ws relay prototype throughput (4 conns × 8 pipelined)', 'req/s', pick((x) => x.tput.hop.rps), { better: 'higher', noteSuffix }),
      figure('raw.cpu.fastify-direct', 'raw: CPU per call, Fastify called directly', 'µs', pick((x) => x.cpu.direct.backend), { better: 'lower', noteSuffix }),
      figure('raw.cpu.proto-relay', 'raw: CPU per call, prototype relay process', 'µs', pick((x) => x.cpu.hop.relay), { better: 'lower', noteSuffix }),
      figure('raw.cpu.proto-backend', 'raw: CPU per call, prototype backend (ws client + inject)', 'µs', pick((x) => x.cpu.hop.backend), { better: 'lower', noteSuffix }),
      figure('raw.cpu.proto-total', 'raw: CPU per call, prototype relay + backend', 'µs', pick((x) => x.cpu.hop.relay + x.cpu.hop.backend), { better: 'lower', noteSuffix }),
    ];
  } finally {
    await Promise.all([backend.stop(), relay.stop()]);
  }
}
