// A whole Sluice stack in one process for hostile-input tests: a real daemon app (real SQLite ledger, artifact
// store and git repo), a real relay (real SQLite store), and the real connector session loop between them over a
// real websocket, every server on 127.0.0.1 port 0.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ArtifactStore, buildApp, ensureHome, ensureToken, listenHomeSocket, openDatabase, parseConfig, RECEIVE_TIMEOUT_MS, Store } from '@sluice/daemon';
import type { HomePaths, HomeSocket } from '@sluice/daemon';
import { buildRelay, SqliteRelayStore } from '@sluice/relay';
import type { RelayConfigInput, RelayDeps } from '@sluice/relay';
import type { Relay } from '@sluice/relay';
import { enroll, runConnector, saveConnectorConfig, loadConnectorConfig } from '@sluice/connector';
import { git, makeRepo, PLANNER_SCOPES, rowCounts, tablesOf } from '@sluice/test-kit';
import type { SqlHandle } from '@sluice/test-kit';

/** Row counts of every table a refused request must leave alone: all the migrations made but the audit table, which grows (refusals are audited). */
export function untouchedCounts(db: SqlHandle): Record<string, number> {
  return rowCounts(db, tablesOf(db, ['audit']));
}

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
      await relayStore.close();
      await daemon.app.close();
      daemon.store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Start the daemon app alone (used by the daemon-side suites too). */
export async function startDaemonApp(root: string, opts: { bodyTimeoutMs?: number; extraWorkspace?: string } = {}): Promise<DaemonPart> {
  const home = ensureHome(join(root, 'daemon-home'));
  const repo = makeRepo(join(root, 'repo')).path;
  const extra = opts.extraWorkspace
    ? { [opts.extraWorkspace]: { path: makeRepo(join(root, `repo-${opts.extraWorkspace}`)).path, name: opts.extraWorkspace, executors: { sim: { adapter: 'simulation' as const } }, validations: {} } }
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
export async function startInProcessStack(opts: { relayConfig?: RelayConfigInput; relayDeps?: Omit<RelayDeps, 'store'> } = {}): Promise<InProcessStack> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-hostile-'));
  const daemon = await startDaemonApp(root);
  const relayStore = new SqliteRelayStore(join(root, 'relay.db'));
  const relay = await buildRelay({ store: relayStore, logger: pino({ level: 'silent' }), ...opts.relayDeps }, { rateLimit: { max: 1_000_000, timeWindowMs: 60_000 }, heartbeatMs: 5_000, ...opts.relayConfig });
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  const relayUrl = relay.origin();

  const mkOrg = async (name: string): Promise<OrgPart> => {
    const org = await relayStore.createOrg(name);
    const t = await relayStore.createToken({ orgId: org.id, name: `${name}-planner`, scopes: PLANNER_SCOPES });
    const a = await relayStore.createToken({ orgId: org.id, name: `${name}-admin`, scopes: ['admin'] });
    return { orgId: org.id, token: t.secret, tokenId: t.record.id, adminToken: a.secret };
  };
  const orgA = await mkOrg('org-a');
  const orgB = await mkOrg('org-b');

  const configPath = join(daemon.home.root, 'connector.json');
  const enr = await relayStore.createEnrollmentToken(orgA.orgId, 60_000);
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
    daemon: untouchedCounts(daemon.store.db),
    relay: untouchedCounts(relayStore.db),
    artifacts: listTree(daemon.home.artifacts),
    refs: git(daemon.repo, 'for-each-ref', '--format=%(refname) %(objectname)'),
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
      await relayStore.close();
      await daemon.app.close();
      daemon.store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
