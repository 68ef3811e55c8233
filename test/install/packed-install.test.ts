// The packed install, as a user does it: pack the sluice tarball, `npm install -g` it into an empty prefix from a
// folder outside the repository (no clone, no repository node_modules, nothing asked of a registry for an @sluice
// name), then run one dispatched and approved step with nothing but the bins that install put on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, relative, sep } from 'node:path';
import { requireSystemTool } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNpmCli, npmEnv, runNpm } from '../../scripts/lib/npm.mjs';
import { sha256 } from '../../scripts/lib/tarball.mjs';
import { ConnectorNode, DaemonNode, FIX_TASK, followEvents, git, HttpPlanner, installedBins, makeBuggyRepo, REPO_ROOT, RelayNode, runNode, stopAll } from '../helpers/index.mjs';

// Without the prebuilt mirror better-sqlite3 compiles from source: about 2.5 CPU minutes, far longer on a busy machine.
const INSTALL_TIMEOUT_MS = 1_500_000;

/** A stand-in registry for the @sluice scope: it answers nothing and remembers every request. */
async function recordingRegistry(): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, requests, server };
}

/**
 * better-sqlite3's install script downloads a prebuilt binary from GitHub and compiles from source only when that
 * fails (minutes of CPU on a 2-core machine). GitHub is the outside world, so when the checkout's own build loads in
 * this Node, a loopback mirror serves that build in the shape prebuild-install downloads; under a Node the checkout was
 * not built for (the Node 22 pass of `.ci/run`), there is no mirror and the install compiles from source.
 */
async function prebuiltMirror(workDir: string): Promise<{ env: Record<string, string>; path: string; requests: string[]; server: Server } | null> {
  const probe = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const moduleDir = join(REPO_ROOT, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(moduleDir, 'package.json'), 'utf8')) as { version: string };
  const stage = join(workDir, 'prebuilt');
  mkdirSync(join(stage, 'build/Release'), { recursive: true });
  copyFileSync(join(moduleDir, 'build/Release/better_sqlite3.node'), join(stage, 'build/Release/better_sqlite3.node'));
  const archive = join(workDir, 'prebuilt.tar.gz');
  execFileSync('tar', ['-C', stage, '-czf', archive, 'build/Release/better_sqlite3.node']);
  const body = readFileSync(archive);
  const path = `/v${version}/better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === path) res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { env: { npm_config_better_sqlite3_binary_host: `http://127.0.0.1:${port}` }, path, requests, server };
}

/** npm and a C++ toolchain (better-sqlite3 compiles at install when no prebuilt binary fits): fail naming them. */
function requireInstallTools(): string | null {
  if (!findNpmCli()) throw new Error('npm is missing: install npm (it ships with Node.js; Debian: apt-get install -y npm)');
  for (const program of ['c++', 'make', 'python3']) {
    const skip = requireSystemTool({ program, args: ['--version'], pkg: program === 'python3' ? 'python3' : 'build-essential', skipVar: 'SLUICE_SKIP_PACKED_INSTALL' });
    if (skip) return skip;
  }
  return null;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const posix = (p: string) => p.split(sep).join('/');

const skip = requireInstallTools();

describe.skipIf(skip !== null)('the packed sluice install', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-packed-'));
  const prefix = join(dir, 'prefix');
  const pkgDir = join(prefix, 'lib/node_modules/sluice');
  const bins = installedBins(prefix);
  let registry: Awaited<ReturnType<typeof recordingRegistry>>;
  let mirror: Awaited<ReturnType<typeof prebuiltMirror>> = null;
  let tarball = '';
  let packedFrom = '';

  beforeAll(async () => {
    registry = await recordingRegistry();
    packedFrom = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const packed = await runNode(join(REPO_ROOT, 'scripts/pack.mjs'), ['--out', join(dir, 'out'), '--allow-dirty'], { timeoutMs: 120_000 });
    expect(packed.code, packed.stderr).toBe(0);
    tarball = packed.stdout.trim();
    const away = join(dir, 'elsewhere');
    mkdirSync(away);
    mirror = await prebuiltMirror(dir);
    const env = npmEnv({ NODE_PATH: undefined, ...mirror?.env });
    await runNpm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `--@sluice:registry=${registry.url}`, tarball], { cwd: away, env });
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    await new Promise((resolve) => registry?.server.close(resolve));
    await new Promise((resolve) => (mirror ? mirror.server.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks no registry for an @sluice name (nothing of ours can be swapped for a stranger\'s package)', () => {
    expect(registry.requests).toEqual([]);
  });

  it("gets better-sqlite3 from the prebuilt mirror when the checkout's build fits this Node, else compiles it", () => {
    if (mirror) expect(mirror.requests).toEqual([mirror.path]);
    const built = join(pkgDir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    expect(statSync(built).isFile()).toBe(true);
    const load = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: pkgDir, encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
  });

  it('puts the three bins on <prefix>/bin, keeps every file inside the prefix and ships no sources or maps', () => {
    for (const bin of Object.values(bins)) expect(statSync(bin).isFile()).toBe(true);
    const root = realpathSync(prefix);
    const files = walk(pkgDir);
    const outside = files.filter((f) => !realpathSync(f).startsWith(root + sep));
    expect(outside).toEqual([]);
    const ours = files.map((f) => posix(relative(pkgDir, f))).filter((p) => !p.startsWith('node_modules/') || p.startsWith('node_modules/@sluice/'));
    expect(ours.filter((p) => /\.(map|ts|tsx|tsbuildinfo)$/.test(p))).toEqual([]);
    expect(ours.filter((p) => p.includes('test-kit'))).toEqual([]);
  });

  it('verifies in place: MANIFEST.sha256 lists exactly the installed files of the package, and sha256sum -c passes', () => {
    const manifest = readFileSync(join(pkgDir, 'MANIFEST.sha256'), 'utf8');
    const listed = manifest.trimEnd().split('\n').map((l) => l.slice(66));
    const ours = walk(pkgDir)
      .map((f) => posix(relative(pkgDir, f)))
      .filter((p) => p !== 'MANIFEST.sha256' && (!p.startsWith('node_modules/') || p.startsWith('node_modules/@sluice/')))
      .sort();
    expect(listed).toEqual(ours);
    const check = spawnSync('sha256sum', ['--check', '--strict', '--quiet', 'MANIFEST.sha256'], { cwd: pkgDir, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('passes its own check (sluice --version --verify: nothing missing, changed or extra)', async () => {
    const res = await runNode(bins.sluice, ['--version', '--verify', '--json'], { cwd: dir, env: { ...process.env, NODE_PATH: undefined } });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, missing: [], changed: [], extra: [] });
  });

  it('reports its version, the commit it was packed from and the manifest hash', async () => {
    const manifestSha256 = sha256(readFileSync(join(pkgDir, 'MANIFEST.sha256')));
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const bin of Object.values(bins)) {
      const res = await runNode(bin, ['--version', '--json'], { cwd: dir, env: { ...process.env, NODE_PATH: undefined } });
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ name: basename(bin), version, commit: packedFrom, manifestSha256, packaged: true });
    }
  });

  it('runs one dispatched and approved step with nothing but the installed bins', async () => {
    const env = { NODE_PATH: undefined, PATH: [join(prefix, 'bin'), dirname(process.execPath), process.env.PATH].join(delimiter) };
    const daemon = new DaemonNode(join(dir, 'daemon-home'), { bin: bins.sluice, env });
    const relay = new RelayNode(join(dir, 'relay-home'), { bin: bins.relay, env });
    let connector: ConnectorNode | undefined;
    try {
      const repo = await makeBuggyRepo(join(dir, 'tiny-math'));
      await daemon.init();
      const added = await daemon.cli(['workspace', 'add', repo.path, '--id', 'tiny-math', '--executor', 'sim=simulation']);
      expect(added.code, added.stderr).toBe(0);
      daemon.editConfig((cfg) => {
        const ws = cfg.workspaces['tiny-math']!;
        ws.validations = { test: { argv: ['node', 'test.js'], timeout: '30s' } };
        ws.allowSimulationWithValidations = true;
        ws.approval = { policy: 'always', remote: true };
      });
      await daemon.start();
      // The console is found through the bundled @sluice/console, not a checkout's build.
      const ui = await fetch(`${daemon.url}/ui/`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toMatch(/<script[^>]+src="\/ui\/assets\//);
      const [org] = await Promise.all([relay.createOrg('packed'), relay.start()]);
      connector = new ConnectorNode(daemon, { bin: bins.connector, env });
      await connector.enroll(relay.url!, org.enrollToken, 'packed-laptop', ['tiny-math']);
      await connector.start();

      const planner = new HttpPlanner(relay.url!, org.plannerToken);
      const run = await planner.call('runs.open', { workspaceId: 'tiny-math', title: 'from the packed install' });
      const step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: FIX_TASK, validations: ['test'] });
      await followEvents(planner, {
        runId: run.runId,
        timeoutMs: 60_000,
        until: (e) => e.type === 'step.state_changed' && e.stepId === step.stepId && e.data['to'] === 'awaiting_approval',
      });
      const waiting = await planner.call('steps.get', { stepId: step.stepId });
      const gate = waiting.gates.find((g) => g.kind === 'approval' && g.status === 'pending');
      await planner.call('gates.approve', { gateId: gate!.gateId, reason: 'installed from the tarball' });
      const done = await planner.call('steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
      expect(done.state).toBe('succeeded');
      const branch = `refs/heads/${String(run.branch).replace(/^refs\/heads\//, '')}`;
      expect(await git(repo.path, ['show', `${branch}:src/math.js`])).toContain('return a + b;');
    } finally {
      const ended = await stopAll([
        ['connector', connector],
        ['relay', relay],
        ['daemon', daemon],
      ]);
      expect(Object.values(ended).every((e) => e === undefined || e.clean)).toBe(true);
    }
  }, 180_000);
});
