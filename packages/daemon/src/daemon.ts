import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { systemActor } from '@sluice/shared-protocol';
import { buildApp, RECEIVE_TIMEOUT_MS, type AppDeps } from './api/build-app.js';
import { listenHomeSocket, type HomeSocket } from './api/home-socket.js';
import { ArtifactStore } from './artifacts/artifact-store.js';
import { loadConfig } from './config/load.js';
import { daemonEngine, type EngineOptions } from './engine/index.js';
import { ensureHome, ensureToken, removeDaemonInfo, writeDaemonInfo, type HomePaths } from './home/home.js';
import { defaultRuntimeBase, ensureRuntime, type RuntimePaths } from './home/runtime-dir.js';
import { openDatabase, Store } from './store/index.js';

/** A listening daemon. `close()` is idempotent. */
export interface RunningDaemon {
  app: FastifyInstance;
  store: Store;
  /** The TCP loopback listener (browser console, tests); clients holding the token use `home.socket`. */
  url: string;
  port: number;
  home: HomePaths;
  /** Where attempts run (worktrees, task files, scratch homes): outside the home. */
  runtime: RuntimePaths;
  close(): Promise<void>;
  /** Start no more queued attempts; resolves once the running ones have ended by themselves. */
  drain(): Promise<void>;
  /** Start no more queued attempts and cancel the running ones, each recorded `cancelled` after its process exits. */
  cancelRunning(reason: string): Promise<void>;
  /** Attempts running now. */
  runningAttempts(): number;
  /** How long a shutdown lets running attempts finish (`drainTimeout` in config.json). */
  drainTimeoutMs: number;
}

/** The actor of what the daemon process itself records (start, stop, a cancel on shutdown). */
const DAEMON_ACTOR = systemActor('daemon');

/** Hosts the daemon may bind: loopback IPv4 only. */
export const ALLOWED_LISTEN_HOSTS: readonly string[] = ['127.0.0.1'];

/**
 * Open the home, the runtime folder (`runtimeDir`, default `<tmpdir>/sluice-<uid>`), the ledger and the artifact
 * store, listen on 127.0.0.1 and on the home socket, and write `daemon.json`. Refuses any other host with a clear error.
 */
export async function startDaemon(opts: { home: string; runtimeDir?: string; host?: string; port?: number; logger?: Logger; engine?: AppDeps['engine']; engineOptions?: EngineOptions }): Promise<RunningDaemon> {
  const home = ensureHome(opts.home);
  const runtime = ensureRuntime(opts.runtimeDir ?? defaultRuntimeBase(), home.root);
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
  const execution = opts.engine ? null : daemonEngine(home, runtime, { ...(opts.logger ? { logger: opts.logger.child({ component: 'engine' }) } : {}), ...(opts.engineOptions ? { options: opts.engineOptions } : {}) });
  const engine = opts.engine ?? execution?.factory;
  const app = buildApp({ store, artifacts, token, configPath: home.config, worktreesDir: runtime.worktrees, attemptsDir: runtime.attempts, ...(opts.logger ? { logger: opts.logger } : {}), ...(engine ? { engine } : {}) }, { ...config, listen: { host, port } });
  let local: HomeSocket;
  try {
    // Crash recovery runs before the first request is served.
    await execution?.start();
    await app.listen({ host, port });
    local = await listenHomeSocket(app, home.socket, { requestTimeoutMs: RECEIVE_TIMEOUT_MS });
  } catch (err) {
    await app.close().catch(() => undefined);
    await execution?.close().catch(() => undefined);
    store.close();
    throw err;
  }
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  const url = `http://127.0.0.1:${actualPort}`;
  writeDaemonInfo(home, { url, pid: process.pid, startedAt: new Date().toISOString() });
  store.audit({ actor: DAEMON_ACTOR, action: 'daemon.start', target: null, outcome: 'ok', details: { url, pid: process.pid } });
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      try {
        local.stopAccepting();
        await app.close();
        await local.close();
      } finally {
        try {
          store.audit({ actor: DAEMON_ACTOR, action: 'daemon.stop', target: null, outcome: 'ok', details: { pid: process.pid } });
        } catch {
          // The database may already be unusable; shutting down matters more.
        }
        removeDaemonInfo(home);
        store.close();
      }
    })();
    return closing;
  };
  return {
    app,
    store,
    url,
    port: actualPort,
    home,
    runtime,
    close,
    drain: async () => execution?.drain(),
    cancelRunning: async (reason) => execution?.cancelRunning(reason, DAEMON_ACTOR),
    runningAttempts: () => execution?.running() ?? 0,
    drainTimeoutMs: config.drainTimeout,
  };
}
