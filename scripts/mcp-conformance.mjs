// Runs the MCP conformance suite's server scenarios that apply to the relay. The suite is not a dependency (0.1.14 and
// later need Node 22): install it in a scratch folder and name it, e.g.
//   npm i --prefix /tmp/conf @modelcontextprotocol/conformance@0.1.13
//   CONFORMANCE=/tmp/conf/node_modules/@modelcontextprotocol/conformance/dist/index.js node scripts/mcp-conformance.mjs
// (for 0.1.16 run this under Node 22 or 24, or set CONFORMANCE_NODE="$(node scripts/install-node.mjs 24)/bin/node").
// The suite has no header option, so a loopback proxy in front of the relay adds the planner bearer.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRelay, SqliteRelayStore } from '@sluice/relay';

/** The server scenarios that do not need the reference server's own tools, resources or prompts. */
export const APPLICABLE_SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'resources-list', 'prompts-list'];

const suite = process.env.CONFORMANCE;
if (!suite) {
  console.error('set CONFORMANCE to the conformance dist/index.js (see the comment at the top of this file)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-conformance-'));
const store = new SqliteRelayStore(join(dir, 'relay.db'));
const relay = await buildRelay({ store }, { rateLimit: { max: 1_000_000, timeWindowMs: 60_000 } });
await relay.app.listen({ host: '127.0.0.1', port: 0 });
const relayPort = relay.app.server.address().port;
const org = await store.createOrg('conformance');
const { secret } = await store.createToken({ orgId: org.id, name: 'conformance', scopes: ['runs:read'] });

const proxy = http.createServer((req, res) => {
  const up = http.request({ host: '127.0.0.1', port: relayPort, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${secret}` } }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${proxy.address().port}/mcp`;

let failed = 0;
for (const scenario of APPLICABLE_SCENARIOS) {
  // Asynchronous on purpose: the relay in this process must keep answering while the suite runs.
  const r = await new Promise((resolve) => {
    execFile(process.env.CONFORMANCE_NODE ?? process.execPath, [suite, 'server', '--url', url, '--scenario', scenario], { encoding: 'utf8', timeout: 120_000 }, (_err, stdout, stderr) =>
      resolve({ stdout, stderr }),
    );
  });
  const passed = /Passed: (\d+)\/(\d+), 0 failed/.exec(r.stdout ?? '');
  console.log(`${scenario}: ${passed ? `passed ${passed[1]}/${passed[2]}` : 'FAILED'}`);
  if (!passed) {
    failed++;
    console.log(r.stdout, r.stderr);
  }
}

proxy.close();
await relay.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
