import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp, type AppDeps } from './api/build-app.js';
import { ArtifactStore } from './artifacts/artifact-store.js';
import { loadConfig } from './config/load.js';
import { daemonEngine, type EngineOptions } from './engine/index.js';
import { ensureHome, ensureToken, removeDaemonInfo, writeDaemonInfo, type HomePaths } from './home/home.js';
import { openDatabase, Store } from './store/index.js';

/** A listening daemon. `close()` is idempotent. */
export interface RunningDaemon {
  app: FastifyInstance;
  store: Store;
  url: string;
  port: number;
  home: HomePaths;
  close(): Promise<void>;
}

/** Hosts the daemon may bind: loopback IPv4 only. */
export const ALLOWED_LISTEN_HOSTS: readonly string[] = ['127.0.0.1'];

/**
 * Open the home, the ledger and the artifact store, listen on 127.0.0.1 and write `daemon.json`.
 * Refuses any other host with a clear error.
 */
export async function startDaemon(opts: { home: string; host?: string; port?: number; logger?: Logger; engine?: AppDeps['engine']; engineOptions?: EngineOptions }): Promise<RunningDaemon> {
  const home = ensureHome(opts.home);
  const config = loadConfig(home.config);
  const host = opts.host ?? config.listen.host;
  if (!ALLOWED_LISTEN_HOSTS.includes(host)) {
    throw new Error(`refusing to listen on ${host}: the daemon binds to 127.0.0.1 only (remote access goes through the connector)`);
  }
  const port = opts.port ?? config.listen.port;
  const token = ensureToken(home);
  const store = new Store(openDatabase(home.db));
  const artifacts = new ArtifactStore(home.artifacts);
  // The execution engine unless the caller brings its own; it closes with the app (EnginePort.close).
  const execution = opts.engine ? null : daemonEngine(home, { ...(opts.logger ? { logger: opts.logger.child({ component: 'engine' }) } : {}), ...(opts.engineOptions ? { options: opts.engineOptions } : {}) });
  const engine = opts.engine ?? execution?.factory;
  const app = buildApp({ store, artifacts, token, configPath: home.config, worktreesDir: home.worktrees, attemptsDir: home.attempts, ...(opts.logger ? { logger: opts.logger } : {}), ...(engine ? { engine } : {}) }, { ...config, listen: { host, port } });
  try {
    // Crash recovery runs before the first request is served.
    await execution?.start();
    await app.listen({ host, port });
  } catch (err) {
    await execution?.close().catch(() => undefined);
    store.close();
    throw err;
  }
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  const url = `http://127.0.0.1:${actualPort}`;
  writeDaemonInfo(home, { url, pid: process.pid, startedAt: new Date().toISOString() });
  store.audit({ actor: 'system:daemon', action: 'daemon.start', target: null, outcome: 'ok', details: { url, pid: process.pid } });
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      try {
        await app.close();
      } finally {
        try {
          store.audit({ actor: 'system:daemon', action: 'daemon.stop', target: null, outcome: 'ok', details: { pid: process.pid } });
        } catch {
          // The database may already be unusable; shutting down matters more.
        }
        removeDaemonInfo(home);
        store.close();
      }
    })();
    return closing;
  };
  return { app, store, url, port: actualPort, home, close };
}
