// The whole Sluice stack as real processes: daemon, relay and connector started from their built bins on free
// loopback ports with temporary homes, wired together the way an operator would do it with the CLIs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLANNER_SCOPES } from '@sluice/shared-protocol';
import { PlannerError } from './planner.mjs';
import { makeBuggyRepo } from './repo.mjs';
import { HarnessTimeout, ManagedProcess, readJsonIfExists, runNode, waitUntil } from './proc.mjs';

/** Repository root (this file lives in test/helpers/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The built bins. `npm run build` (or `npm ci`) produces them. */
export const BINS = {
  sluice: join(REPO_ROOT, 'packages/daemon/dist/cli/main.js'),
  relay: join(REPO_ROOT, 'packages/relay/dist/cli/main.js'),
  connector: join(REPO_ROOT, 'packages/connector/dist/cli/main.js'),
};

/** The bins `npm install -g --prefix <prefix>` puts on PATH: the packed-install test runs the stack from them. */
export function installedBins(prefix) {
  return { sluice: join(prefix, 'bin/sluice'), relay: join(prefix, 'bin/sluice-relay'), connector: join(prefix, 'bin/sluice-connector') };
}

/** Every planner scope; the demo planner gets them all except `admin`. */
export { PLANNER_SCOPES };

/** Child environment: no inherited Sluice homes, no colours, logs at info unless asked otherwise. */
function baseEnv(extra) {
  const env = { ...process.env, NO_COLOR: '1', SLUICE_LOG_LEVEL: process.env.SLUICE_E2E_LOG_LEVEL ?? 'info' };
  delete env.SLUICE_HOME;
  delete env.SLUICE_RELAY_HOME;
  delete env.SLUICE_CONNECTOR_CONFIG;
  delete env.SLUICE_RUNTIME_DIR;
  return { ...env, ...extra };
}

function parseJsonOutput(what, res) {
  if (res.code !== 0) throw new Error(`${what} failed (exit ${res.code}): ${res.stderr.trim() || res.stdout.trim()}`);
  try {
    return JSON.parse(res.stdout);
  } catch {
    throw new Error(`${what} did not print JSON: ${res.stdout.slice(0, 500)}`);
  }
}

/** A daemon (`sluice`) with its own SLUICE_HOME. */
export class DaemonNode {
  /** @param {string} home */
  constructor(home, opts = {}) {
    this.home = home;
    // Attempts run outside the home, in a folder of this test's own (removed with it).
    this.env = baseEnv({ SLUICE_HOME: home, SLUICE_RUNTIME_DIR: `${home}-run`, ...(opts.env ?? {}) });
    /** Another build's bin (the compatibility tests run a released daemon). */
    this.bin = opts.bin ?? BINS.sluice;
    this.proc = undefined;
    this.url = undefined;
  }

  /** Run the `sluice` CLI against this home. */
  cli(args, opts = {}) {
    return runNode(this.bin, args, { env: this.env, ...opts });
  }

  /** Run the CLI with `--json` and parse its output. */
  async cliJson(args) {
    return parseJsonOutput(`sluice ${args.join(' ')}`, await this.cli([...args, '--json']));
  }

  get configPath() {
    return join(this.home, 'config.json');
  }

  /** Read config.json, let `edit` change it, write it back (the operator editing the file). */
  editConfig(edit) {
    const cfg = JSON.parse(readFileSync(this.configPath, 'utf8'));
    edit(cfg);
    writeFileSync(this.configPath, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
    return cfg;
  }

  /** `sluice init`, listening on a free port. */
  async init() {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    const res = await this.cli(['init']);
    if (res.code !== 0) throw new Error(`sluice init failed: ${res.stderr || res.stdout}`);
    this.editConfig((cfg) => {
      cfg.cancelGrace = '1s';
    });
  }

  /**
   * Register a repo as a workspace, then configure it as an operator would in config.json.
   * @param {string} path
   * @param {string} id
   * @param {{ approval?: { policy: 'none' | 'always', remote: boolean }, described?: boolean, sandbox?: 'on' | 'off' }} [opts]
   */
  async addWorkspace(path, id, opts = {}) {
    const res = await this.cli(['workspace', 'add', path, '--id', id]);
    if (res.code !== 0) throw new Error(`sluice workspace add failed: ${res.stderr || res.stdout}`);
    this.editConfig((cfg) => {
      const ws = cfg.workspaces[id];
      ws.executors = { simulation: { adapter: 'simulation' } };
      ws.validations = { test: { argv: ['node', 'test.js'], timeout: '30s' } };
      // What the operator tells planners (a 0.1.0 daemon knows no descriptions).
      if (opts.described) {
        ws.executors.simulation.description = 'A scripted stand-in for a coding agent: it edits files exactly as its task says.';
        ws.validations.test.description = "The project's test suite (node test.js); it fails until add() is fixed.";
      }
      // The simulation writes test.js as well: the operator accepts that a planner's task decides what it runs.
      ws.allowSimulationWithValidations = true;
      ws.approval = opts.approval ?? { policy: 'always', remote: true };
      if (opts.sandbox) ws.sandbox = opts.sandbox;
    });
  }

  /**
   * Start `sluice daemon start` and wait for `daemon.json` and `/healthz`. A restart comes back on the port it
   * had, as a daemon on a fixed configured port would.
   */
  async start() {
    const port = this.url ? new URL(this.url).port : '0';
    rmSync(join(this.home, 'daemon.json'), { force: true });
    this.proc = new ManagedProcess('daemon', [this.bin, 'daemon', 'start', '--port', port], { env: this.env });
    const info = await waitUntil(
      () => {
        if (!this.proc.running) throw new HarnessTimeout(`the daemon exited: ${JSON.stringify(this.proc.exit)}`, this.proc.output);
        const j = readJsonIfExists(join(this.home, 'daemon.json'));
        return j && j.pid === this.proc.pid ? j : undefined;
      },
      { timeoutMs: 20_000, what: 'daemon.json' },
    ).catch((err) => {
      throw new HarnessTimeout(err.message, this.proc.output);
    });
    this.url = info.url;
    await waitUntil(async () => (await fetch(`${this.url}/healthz`)).ok, { what: 'daemon /healthz' });
    return this;
  }

  /** The daemon token (operator credential, for direct /api/v1 calls in tests). */
  get token() {
    return readFileSync(join(this.home, 'daemon.token'), 'utf8').trim();
  }

  /** Call a verb on the daemon's /api/v1 as the local operator. */
  async verb(verb, input = {}) {
    const res = await fetch(`${this.url}/api/v1/verbs/${verb}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const body = await res.json();
    if (!res.ok) throw new PlannerError(body.code, body.message, res.status);
    return body;
  }

  async stop() {
    return this.proc ? this.proc.stop() : undefined;
  }

  async crash() {
    return this.proc?.crash();
  }
}

/** A relay (`sluice-relay`) with its own SLUICE_RELAY_HOME. */
export class RelayNode {
  constructor(home, opts = {}) {
    this.home = home;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    /** Another build's bin (the compatibility tests run a released relay). */
    this.bin = opts.bin ?? BINS.relay;
    this.env = baseEnv({ SLUICE_RELAY_HOME: home, ...(opts.env ?? {}) });
    /** More `start` flags (a replica: `--public-url` of the balancer in front). */
    this.startArgs = opts.startArgs ?? [];
    this.proc = undefined;
    this.port = 0;
    this.url = undefined;
  }

  cli(args, opts = {}) {
    return runNode(this.bin, args, { env: this.env, ...opts });
  }

  async cliJson(args) {
    return parseJsonOutput(`sluice-relay ${args.join(' ')}`, await this.cli([...args, '--json']));
  }

  /** Start the relay; on a restart it comes back on the same port so connectors and planners find it again. */
  start() {
    this.ready = this.startProcess();
    return this.ready;
  }

  async startProcess() {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    const args = [this.bin, 'start', '--host', '127.0.0.1', '--port', String(this.port), '--heartbeat-ms', String(this.heartbeatMs), ...this.startArgs];
    this.proc = new ManagedProcess('relay', args, { env: this.env });
    const m = await this.proc.waitForOutput(/^.*"msg":"sluice relay listening".*$/m, { timeoutMs: 20_000 });
    const line = JSON.parse(m[0]);
    // With --public-url the origin is the balancer's; the address is this process's own.
    this.url = new URL(String(line.address ?? line.origin)).origin;
    this.port = Number(new URL(this.url).port);
    await waitUntil(async () => (await fetch(`${this.url}/healthz`)).ok, { what: 'relay /healthz' });
    return this;
  }

  /**
   * Create an org with a planner token and an enrollment token, through the CLI.
   * @param {string} name
   */
  async createOrg(name, scopes = PLANNER_SCOPES, alongside = undefined) {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    // The first CLI call creates (and migrates) a new relay database; everything else may run side by side.
    const org = await this.cliJson(['org', 'create', name]);
    const orgId = org.orgId ?? org.id;
    const [pat, enr] = await Promise.all([
      this.cliJson(['token', 'create', '--org', orgId, '--name', `${name}-planner`, '--scopes', scopes.join(',')]),
      this.cliJson(['enroll-token', 'create', '--org', orgId]),
      alongside?.(),
    ]);
    return { orgId, plannerToken: pat.token, enrollToken: enr.token };
  }

  async stop() {
    return this.proc ? this.proc.stop() : undefined;
  }

  async crash() {
    return this.proc?.crash();
  }
}

/** A connector (`sluice-connector`) living next to a daemon (same SLUICE_HOME). */
export class ConnectorNode {
  /** @param {DaemonNode} daemon */
  constructor(daemon, opts = {}) {
    this.daemon = daemon;
    this.env = baseEnv({ SLUICE_HOME: daemon.home, SLUICE_CONNECTOR_BACKOFF_BASE_MS: '200', SLUICE_CONNECTOR_BACKOFF_CAP_MS: '1000', ...(opts.env ?? {}) });
    /** Another build's bin (the compatibility tests run a released connector). */
    this.bin = opts.bin ?? BINS.connector;
    this.proc = undefined;
    this.instanceId = undefined;
  }

  cli(args, opts = {}) {
    return runNode(this.bin, args, { env: this.env, ...opts });
  }

  async cliJson(args) {
    return parseJsonOutput(`sluice-connector ${args.join(' ')}`, await this.cli([...args, '--json']));
  }

  /** Enroll with the relay, then share the workspaces. */
  async enroll(relayUrl, enrollToken, name, shares) {
    const res = await this.cliJson(['enroll', '--relay', relayUrl, '--token', enrollToken, '--name', name]);
    this.instanceId = res.instanceId;
    for (const ws of shares) {
      const r = await this.cli(['share', ws]);
      if (r.code !== 0) throw new Error(`sluice-connector share ${ws} failed: ${r.stderr || r.stdout}`);
    }
    return res;
  }

  get statePath() {
    return join(this.daemon.home, 'connector.state.json');
  }

  /** Start `sluice-connector run` and wait until its state file says connected. */
  async start() {
    rmSync(this.statePath, { force: true });
    this.proc = new ManagedProcess('connector', [this.bin, 'run'], { env: this.env });
    await this.waitConnected();
    return this;
  }

  /** Wait for the state file to say connected (after a start or a relay restart). */
  async waitConnected(timeoutMs = 20_000) {
    await waitUntil(
      () => {
        if (!this.proc.running) throw new HarnessTimeout(`the connector exited: ${JSON.stringify(this.proc.exit)}`, this.proc.output);
        return readJsonIfExists(this.statePath)?.connected === true;
      },
      { timeoutMs, what: 'the connector to connect' },
    ).catch((err) => {
      throw new HarnessTimeout(err.message, this.proc.output);
    });
  }

  async stop() {
    return this.proc ? this.proc.stop() : undefined;
  }

  async crash() {
    return this.proc?.crash();
  }
}

/**
 * One operator machine joined to a relay: a temp repo with a failing test, a daemon serving it as a workspace,
 * an org with a planner token, and a connector enrolled in that org sharing the workspace (started).
 * @param {RelayNode} relay
 * @param {{ dir: string, orgName: string, workspaceId: string, approval?: { policy: 'none' | 'always', remote: boolean }, described?: boolean, sandbox?: 'on' | 'off', connectorEnv?: Record<string, string> }} opts
 */
export async function addMachine(relay, opts) {
  const machine = { dir: opts.dir, workspaceId: opts.workspaceId, repo: undefined, daemon: new DaemonNode(join(opts.dir, 'daemon-home')), connector: undefined, org: undefined };
  // The daemon side and the relay side are independent until enrollment: set them up side by side.
  const daemonSide = (async () => {
    machine.repo = await makeBuggyRepo(join(opts.dir, opts.workspaceId));
    await machine.daemon.init();
    await machine.daemon.addWorkspace(machine.repo.path, opts.workspaceId, { approval: opts.approval, described: opts.described, sandbox: opts.sandbox });
    await machine.daemon.start();
  })();
  const relaySide = relay.createOrg(opts.orgName, PLANNER_SCOPES, () => relay.ready ?? relay.start());
  const [, org] = await Promise.all([daemonSide, relaySide]);
  machine.org = org;
  machine.connector = new ConnectorNode(machine.daemon, { env: opts.connectorEnv });
  await machine.connector.enroll(relay.url, machine.org.enrollToken, `${opts.orgName}-laptop`, [opts.workspaceId]);
  await machine.connector.start();
  return machine;
}

/** Stop processes in order (connectors, then relay, then daemons); returns how each ended. */
export async function stopAll(named) {
  const results = {};
  for (const [name, node] of named) {
    try {
      results[name] = node ? await node.stop() : undefined;
    } catch (err) {
      results[name] = { error: err.message, clean: false };
    }
  }
  return results;
}

/**
 * Start a whole stack: temp repo with a failing test, daemon, relay, org + tokens, enrolled connector sharing
 * the workspace. `stop()` stops everything (connector, relay, daemon) and reports how each exited.
 * @param {{ workspaceId?: string, approval?: { policy: 'none' | 'always', remote: boolean }, described?: boolean, sandbox?: 'on' | 'off', heartbeatMs?: number, keepDir?: boolean }} [opts]
 */
export async function startStack(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const relay = new RelayNode(join(dir, 'relay-home'), { heartbeatMs: opts.heartbeatMs });
  const stack = { dir, workspaceId: opts.workspaceId ?? 'tiny-math', relay, repo: undefined, daemon: undefined, connector: undefined, org: undefined };
  stack.stop = async () => {
    const results = await stopAll([
      ['connector', stack.connector],
      ['relay', stack.relay],
      ['daemon', stack.daemon],
    ]);
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    return results;
  };
  try {
    const machine = await addMachine(relay, { dir, orgName: 'demo', workspaceId: stack.workspaceId, approval: opts.approval, described: opts.described, sandbox: opts.sandbox });
    Object.assign(stack, { repo: machine.repo, daemon: machine.daemon, connector: machine.connector, org: machine.org });
    return stack;
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
