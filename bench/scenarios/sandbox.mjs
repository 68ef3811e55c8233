/**
 * What the sandbox adds to each process an attempt runs: the time from spawn to exit of a short program
 * (`node -e 0`, the simulation executor's own start) through `AttemptSandbox.spawn` (bubblewrap, prlimit, a cgroup
 * of its own, the attempt's file tree over a real git worktree), against the same spawn unconfined
 * (`spawnSupervised`), interleaved in the same run. Also the same with the network bridge and egress proxy (an
 * agent adapter's case: one more node start inside the sandbox).
 *
 * Uses the built daemon (`npm run build`): packages/daemon/dist. Needs bubblewrap.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { git, makeRepo } from '../lib/git-fixtures.mjs';
import { figure, median } from '../lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../packages/daemon/dist');
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const [{ spawnSupervised }, { AttemptSandbox, sandboxAvailability }, { parseConfig }] = await Promise.all([load('process/index.js'), load('sandbox/index.js'), load('config/index.js')]);
  const available = sandboxAvailability();
  if (!available.ok) throw new Error(`the sandbox is unavailable here: ${available.reason}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-sandbox-'));
  try {
    const repo = path.join(dir, 'repo');
    await makeRepo(repo, 100);
    const worktree = path.join(dir, 'wt');
    await git(['-C', repo, 'worktree', 'add', '-q', '-b', 'bench', worktree, 'HEAD']);
    const scratchHome = path.join(dir, 'scratch', 'home');
    mkdirSync(scratchHome, { recursive: true });
    const sandbox = new AttemptSandbox({ tools: available.tools, attemptId: 'att_bench', worktree, gitCommonDir: path.join(repo, '.git'), repoPath: repo, deps: [], scratchHome, operatorHome: null, protectedRoots: [], onDenied: () => undefined });
    const policy = parseConfig({ workspaces: { b: { path: repo, name: 'b', executors: { c: { adapter: 'command', argv: ['x'] } } } } }).workspaces.b.executors.c.policy;
    const spec = (i) => ({ argv: [process.execPath, '-e', '0'], cwd: worktree, env: { PATH: '/usr/bin:/bin', HOME: scratchHome }, stdoutPath: path.join(dir, `o${i}`), stderrPath: path.join(dir, `e${i}`), outputCapBytes: 1 << 20, graceMs: 1000 });
    const timed = async (start) => {
      const t = performance.now();
      const r = await (await start()).done;
      if (r.exitCode !== 0) throw new Error(`the benchmark child failed: ${JSON.stringify(r)}`);
      return performance.now() - t;
    };
    const n = quick ? 8 : 20;
    const res = { plain: [], confined: [], networked: [], added: [], addedNet: [] };
    for (let r = 0; r < rounds; r++) {
      const plain = [];
      const confined = [];
      const networked = [];
      for (let i = 0; i < n; i++) {
        plain.push(await timed(async () => spawnSupervised(spec(i))));
        confined.push(await timed(() => sandbox.spawn(spec(i), { policy, defaultHosts: [], defaultHomeEntries: [] })));
        networked.push(await timed(() => sandbox.spawn(spec(i), { policy, defaultHosts: ['127.0.0.1:9'], defaultHomeEntries: [] })));
      }
      res.plain.push(median(plain));
      res.confined.push(median(confined));
      res.networked.push(median(networked));
      res.added.push(median(confined) - median(plain));
      res.addedNet.push(median(networked) - median(plain));
    }
    return [
      figure('sandbox.spawn.unconfined', 'short child spawn → exit, unconfined', 'ms', res.plain),
      figure('sandbox.spawn.confined', 'short child spawn → exit, in the sandbox (no network)', 'ms', res.confined),
      figure('sandbox.added', 'time the sandbox adds per child (no network: command, validations)', 'ms', res.added),
      figure('sandbox.added.network', 'time the sandbox adds per child with the egress bridge (agent adapters)', 'ms', res.addedNet),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run({ rounds: 3, quick: process.argv.includes('--quick') }), null, 1));
}
