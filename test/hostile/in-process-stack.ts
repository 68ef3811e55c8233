// A whole Sluice stack in one process for hostile-input tests: a real daemon app (real SQLite ledger, artifact
// store and git repo), a real relay (real SQLite store), and the real connector session loop between them over a
// real websocket, every server on 127.0.0.1 port 0.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ArtifactStore, buildApp, ensureHome, ensureToken, listenHomeSocket, openDatabase, parseConfig, RECEIVE_TIMEOUT_MS, Store } from '@sluice/daemon';
import type { HomePaths, HomeSocket } from '@sluice/daemon';
import { buildRelay, SqliteRelayStore } from '@sluice/relay';
import type { Relay } from '@sluice/relay';
import { enroll, runConnector, saveConnectorConfig, loadConnectorConfig } from '@sluice/connector';
import { PLANNER_SCOPES } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';

export const ALL_PLANNER_SCOPES: Scope[] = [...PLANNER_SCOPES];

/** The ledger tables a refused request must leave alone (the audit table is expected to grow: refusals are audited). */
export const DAEMON_TABLES = ['runs', 'steps', 'attempts', 'transitions', 'events', 'artifact_refs', 'validation_results', 'gates', 'gate_evaluations'];
/** The relay tables a refused request must leave alone. */
export const RELAY_TABLES = ['orgs', 'tokens', 'enrollment_tokens', 'instances', 'id_owners', 'dispatch_answers', 'oauth_revoked_subjects'];

export interface DaemonPart {
  app: FastifyInstance;
  store: Store;
  artifacts: ArtifactStore;
  home: HomePaths;
  token: string;
  url: string;
  port: number;
  repo: string;
}

export interface OrgPart {
  orgId: string;
  token: string;
  tokenId: string;
  adminToken: string;
}

export interface InProcessStack {
  root: string;
  daemon: DaemonPart;
  relay: Relay;
  relayStore: SqliteRelayStore;
  relayUrl: string;
  orgA: OrgPart;
  orgB: OrgPart;
  instanceId: string;
  workspaceId: string;
  /** Everything a refused request must not change: row counts of both stores, the artifact folder, the repo refs, config.json. */
  snapshot(): Snapshot;
  close(): Promise<void>;
}

export interface Snapshot {
  daemon: Record<string, number>;
  relay: Record<string, number>;
  artifacts: string[];
  refs: string;
  config: string;
}

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A small git repo with one commit. */
export function makeRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  git(dir, ['config', 'user.email', 'test@example.com']);
  git(dir, ['config', 'user.name', 'Test']);
  writeFileSync(join(dir, 'README.md'), 'hello\n');
  git(dir, ['add', 'README.md']);
  git(dir, ['commit', '-q', '-m', 'init']);
  return dir;
}

/** Every file under a folder, relative, sorted, with size and sha256 (so an overwrite shows, not only a new file). */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(p);
      if (st.isDirectory()) walk(p, r);
      else out.push(`${r}:${st.size}:${sha256(readFileSync(p))}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function counts(db: { prepare(sql: string): { get(): unknown } }, tables: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  return out;
}

/** A daemon app and a relay, each alone (no connector between them), listening on 127.0.0.1 port 0. */
export interface ServerPair {
  daemon: DaemonPart;
  relay: Relay;
  relayStore: SqliteRelayStore;
  relayPort: number;
  close(): Promise<void>;
}

/** Start a ServerPair in a new temp folder, both servers built with the given receive timeout. */
export async function startServerPair(prefix: string, bodyTimeoutMs: number): Promise<ServerPair> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const daemon = await startDaemonApp(root, { bodyTimeoutMs });
  const relayStore = new SqliteRelayStore(join(root, 'relay.db'));
  const relay = await buildRelay({ store: relayStore, logger: pino({ level: 'silent' }) }, { bodyTimeoutMs });
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    daemon,
    relay,
    relayStore,
    relayPort: (relay.app.server.address() as { port: number }).port,
    close: async () => {
      await relay.close();
      relayStore.close();
      await daemon.app.close();
      daemon.store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Start the daemon app alone (used by the daemon-side suites too). */
export async function startDaemonApp(root: string, opts: { bodyTimeoutMs?: number; extraWorkspace?: string } = {}): Promise<DaemonPart> {
  const home = ensureHome(join(root, 'daemon-home'));
  const repo = makeRepo(join(root, 'repo'));
  const extra = opts.extraWorkspace
    ? { [opts.extraWorkspace]: { path: makeRepo(join(root, `repo-${opts.extraWorkspace}`)), name: opts.extraWorkspace, executors: { sim: { adapter: 'simulation' as const } }, validations: {} } }
    : {};
  const raw = {
    listen: { host: '127.0.0.1', port: 0 },
    workspaces: {
      web: {
        path: repo,
        name: 'web',
        executors: { sim: { adapter: 'simulation' as const } },
        validations: { test: { argv: ['node', '-e', '0'], timeout: '30s', runsWorktreeCode: false } },
        approval: { policy: 'always' as const, remote: true },
      },
      ...extra,
    },
  };
  writeFileSync(home.config, JSON.stringify(raw, null, 2), { mode: 0o600 });
  const token = ensureToken(home);
  const store = new Store(openDatabase(home.db));
  const artifacts = new ArtifactStore(home.artifacts);
  const deps = { store, artifacts, token, configPath: home.config, cwd: root, ...(opts.bodyTimeoutMs ? { bodyTimeoutMs: opts.bodyTimeoutMs } : {}) };
  const app = buildApp(deps, parseConfig(raw));
  // The connector reaches the daemon over the home socket, as it does in production.
  const local: { socket?: HomeSocket } = {};
  app.addHook('onClose', async () => local.socket?.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  local.socket = await listenHomeSocket(app, home.socket, { requestTimeoutMs: opts.bodyTimeoutMs ?? RECEIVE_TIMEOUT_MS });
  const addr = app.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  return { app, store, artifacts, home, token, url: `http://127.0.0.1:${port}`, port, repo };
}

/** Start daemon, relay, two orgs and an enrolled, running connector of org A sharing workspace `web`. */
export async function startInProcessStack(): Promise<InProcessStack> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-hostile-'));
  const daemon = await startDaemonApp(root);
  const relayStore = new SqliteRelayStore(join(root, 'relay.db'));
  const relay = await buildRelay({ store: relayStore, logger: pino({ level: 'silent' }) }, { rateLimit: { max: 1_000_000, timeWindowMs: 60_000 }, heartbeatMs: 5_000 });
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  const relayUrl = relay.origin();

  const mkOrg = (name: string): OrgPart => {
    const org = relayStore.createOrg(name);
    const t = relayStore.createToken({ orgId: org.id, name: `${name}-planner`, scopes: ALL_PLANNER_SCOPES });
    const a = relayStore.createToken({ orgId: org.id, name: `${name}-admin`, scopes: ['admin'] });
    return { orgId: org.id, token: t.secret, tokenId: t.record.id, adminToken: a.secret };
  };
  const orgA = mkOrg('org-a');
  const orgB = mkOrg('org-b');

  const configPath = join(daemon.home.root, 'connector.json');
  const enr = relayStore.createEnrollmentToken(orgA.orgId, 60_000);
  await enroll({ configPath, relay: relayUrl, token: enr.secret, name: 'laptop-a', insecure: false, force: false });
  const cfg = loadConnectorConfig(configPath);
  saveConnectorConfig(configPath, { ...cfg, shares: ['web'], daemon: { home: daemon.home.root } });
  const abort = new AbortController();
  const log = pino({ level: 'silent' });
  const connectorDone = runConnector({
    configPath,
    statePath: join(daemon.home.root, 'connector.state.json'),
    env: { SLUICE_HOME: daemon.home.root },
    log,
    signal: abort.signal,
    backoff: { baseMs: 100, capMs: 500 },
    drainMs: 200,
  });
  const instanceId = cfg.instanceId;
  const deadline = Date.now() + 15_000;
  while (!relay.hub.get(instanceId) || relay.hub.get(instanceId)!.state !== 'ready') {
    if (Date.now() > deadline) throw new Error('the connector did not connect');
    await new Promise((r) => setTimeout(r, 25));
  }

  const snapshot = (): Snapshot => ({
    daemon: counts(daemon.store.db, DAEMON_TABLES),
    relay: counts(relayStore.db, RELAY_TABLES),
    artifacts: listTree(daemon.home.artifacts),
    refs: git(daemon.repo, ['for-each-ref', '--format=%(refname) %(objectname)']),
    config: readFileSync(daemon.home.config, 'utf8'),
  });

  return {
    root,
    daemon,
    relay,
    relayStore,
    relayUrl,
    orgA,
    orgB,
    instanceId,
    workspaceId: 'web',
    snapshot,
    async close() {
      abort.abort();
      await connectorDone.catch(() => undefined);
      await relay.close();
      relayStore.close();
      await daemon.app.close();
      daemon.store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
