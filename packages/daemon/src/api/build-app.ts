import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorMapperOptions, installErrorMapper, readReleaseInfo } from '@sluice/node-kit';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { DaemonConfig } from '../config/schema.js';
import type { EngineContext } from '../engine/engine-types.js';
import { ConfigHolder } from '../config/config-holder.js';
import { collectGarbage, type GcOptions } from '../service/retention.js';
import type { EnginePort } from '../runs/engine-port.js';
import { RecordOnlyEngine } from '../service/record-only-engine.js';
import { VerbService } from '../service/verb-service.js';
import { WorkspaceService } from '../service/workspace-service.js';
import type { Store } from '../store/index.js';
import { DAEMON_VERSION } from '../version.js';
import { registerEventStream } from './event-stream.js';
import { installGuard } from './guard.js';
import { registerOperatorRoutes } from './operator-routes.js';
import { RefusalAudit } from './refusal-audit.js';
import { SharedWorkspaces } from './shared-workspaces.js';
import { registerVerbRoutes } from './verb-routes.js';
import { registerConnectorReports } from './connector-report.js';
import { registerConsoleReads } from './console/console-reads.js';
import { registerConsoleSessionRoutes, SIGN_IN_PATH } from './console/console-routes.js';
import { ConsoleSessions } from './console/sessions.js';
import { defaultConsoleDir, registerConsoleFiles } from './console/static-files.js';

/** Largest accepted request body. */
export const BODY_LIMIT = 256 * 1024;
/** Time a client has to send a whole request (headers and body); slow clients are cut with 408. */
export const RECEIVE_TIMEOUT_MS = 10_000;

/** Everything `buildApp` needs; only `main` reads env, files and signals. */
export interface AppDeps {
  store: Store;
  artifacts: ArtifactStore;
  /** The bearer token from `daemon.token`. */
  token: string;
  /** The execution engine, or a factory for it; the record-only engine when absent. */
  engine?: EnginePort | ((ctx: EngineContext) => EnginePort);
  logger?: Logger;
  /** `config.json`, for workspace add/remove through the API; null refuses them. */
  configPath?: string | null;
  /** The default worktree root and the attempt scratch root, for `sluice gc` (absent: gc leaves them alone). */
  worktreesDir?: string | null;
  attemptsDir?: string | null;
  /** Relative workspace paths resolve against this (default: the process cwd). */
  cwd?: string;
  /** The built console to serve at `/ui` (default: `@sluice/console`'s dist/; null: not built). */
  consoleDir?: string | null;
  /** Override of RECEIVE_TIMEOUT_MS (tests). */
  bodyTimeoutMs?: number;
}

/** The daemon's Fastify app (not listening). `config.listen.port` is the port Host headers must carry until it listens. */
export function buildApp(deps: AppDeps, config: DaemonConfig): FastifyInstance {
  const receiveMs = deps.bodyTimeoutMs ?? RECEIVE_TIMEOUT_MS;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Node arms the request timeout only when it is given to the server's constructor (Fastify sets it later),
    // and enforces it when it sweeps connections: both go in `http`.
    requestTimeout: receiveMs,
    http: { requestTimeout: receiveMs, connectionsCheckingInterval: Math.min(1000, receiveMs) },
    return503OnClosing: true,
    trustProxy: false,
    ...errorMapperOptions(),
  }) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');

  // Fastify's two info lines per request cost a quarter of a relay hop's CPU; the ledger already records every
  // change and refusals are audited, so access lines go to debug and only server errors stand out.
  app.addHook('onResponse', (request, reply, done) => {
    const line = { method: request.method, url: request.routeOptions.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) request.log.warn(line, 'request completed');
    else request.log.debug(line, 'request completed');
    done();
  });

  const holder = new ConfigHolder(config);
  const engineCtx: EngineContext = { store: deps.store, artifacts: deps.artifacts, config: holder };
  const engine: EnginePort = typeof deps.engine === 'function' ? deps.engine(engineCtx) : (deps.engine ?? new RecordOnlyEngine({ store: deps.store, config: holder }));
  const verbs = new VerbService({ store: deps.store, artifacts: deps.artifacts, engine, config: holder });
  const workspaces = new WorkspaceService({ store: deps.store, config: holder, configPath: deps.configPath ?? null });

  installErrorMapper(app);
  const refusals = new RefusalAudit(deps.store);
  const port = () => {
    const addr = app.server.address();
    return addr && typeof addr === 'object' ? addr.port : config.listen.port;
  };
  const consoleSessions = new ConsoleSessions(deps.store, (row, from) => refusals.record(row, from));
  const consoleFiles = registerConsoleFiles(app, deps.consoleDir === undefined ? defaultConsoleDir() : deps.consoleDir);
  installGuard(app, {
    token: deps.token,
    refusals,
    shares: new SharedWorkspaces(deps.store, holder),
    port,
    consoleSessions,
    publicRoutes: { isPublic: (method, path) => (method === 'GET' && consoleFiles.isFile(path)) || (method === 'POST' && path === SIGN_IN_PATH) },
  });

  const { commit, manifestSha256 } = readReleaseInfo();
  app.get('/healthz', async () => ({ ok: true, version: DAEMON_VERSION, commit, manifestSha256 }));
  registerVerbRoutes(app, verbs);
  const gc = (o: GcOptions) => collectGarbage({ store: deps.store, artifacts: deps.artifacts, config: holder.current, worktreesDir: deps.worktreesDir ?? null, attemptsDir: deps.attemptsDir ?? null }, o);
  registerOperatorRoutes(app, { store: deps.store, workspaces, gc, cwd: deps.cwd ?? process.cwd(), startedAt: new Date().toISOString() });
  registerEventStream(app, deps.store);
  registerConsoleSessionRoutes(app, { sessions: consoleSessions, baseUrl: () => `http://127.0.0.1:${port()}` });
  registerConsoleReads(app, { store: deps.store, config: holder, workspaces, connectors: registerConnectorReports(app) });
  app.addHook('preClose', async () => {
    deps.store.bus.close();
  });
  app.addHook('onClose', async () => {
    refusals.stop();
  });
  app.addHook('onClose', async () => {
    await engine.close?.();
  });
  return app;
}
