import type { AddressInfo } from 'node:net';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { createRootLogger, errorMapperOptions, installErrorMapper } from '@sluice/node-kit';
import { RELAY_PATHS, SluiceError } from '@sluice/shared-protocol';
import type { Logger } from 'pino';
import { AdminService } from '../admin/admin-service.js';
import type { LiveRelay } from '../admin/admin-service.js';
import { RefusalAudit } from '../audit/refusal-audit.js';
import { Authenticator } from '../auth/authenticator.js';
import { parseRelayConfig } from '../config/relay-config.js';
import type { RelayConfig, RelayConfigInput } from '../config/relay-config.js';
import { ConnectorHub } from '../connectors/connector-hub.js';
import { Dispatcher } from '../routing/dispatcher.js';
import { ReplicaNotices, INSTANCE_CHANGED_CHANNEL } from '../replicas/replica-notices.js';
import { PgChallengeLedger } from '../replicas/pg-challenges.js';
import { ReplicaRouter } from '../replicas/replica-router.js';
import { localRoutes } from '../routing/instance-routes.js';
import { PostgresRelayStore } from '../store/postgres-store.js';
import type { RelayStore } from '../store/relay-store.js';
import type { RelayContext } from './context.js';
import { limitRate, mcpResourceUrl, resourceMetadataUrl } from './context.js';
import { oauthChallenge } from './oauth-challenge.js';
import { computeSecurityHeaders } from './security-headers.js';
import { RateLimiter } from './rate-limiter.js';
import { StreamGuards } from './stream-guards.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerConnectorRoutes } from './routes/connector-routes.js';
import { registerMcpRoute } from './routes/mcp-route.js';
import { registerOAuthRoutes } from './routes/oauth-routes.js';
import type { ClientDocumentFetchOptions } from '../oauth/client-document-fetch.js';
import { registerPublicRoutes } from './routes/public-routes.js';
import { registerVerbRoutes } from './routes/verb-routes.js';

export interface RelayDeps {
  store: RelayStore;
  logger?: Logger;
  now?: () => number;
  /**
   * Tests only (never a flag or a config key): how the built-in authorization server fetches client metadata
   * documents, e.g. a stub resolver, loopback allowed, a test certificate authority.
   */
  clientDocumentFetch?: ClientDocumentFetchOptionsForTests;
}

export type ClientDocumentFetchOptionsForTests = Omit<ClientDocumentFetchOptions, 'maxBytes' | 'timeoutMs'>;

/** A built relay: the Fastify app (listen on it) plus the parts tests and the CLI reach for. */
export interface Relay {
  app: FastifyInstance;
  hub: ConnectorHub;
  /** This relay's live sessions and streams, for changes made to its store by another process (the CLI). */
  live: LiveRelay;
  config: RelayConfig;
  /** Public origin (after listen when no publicUrl is configured). */
  origin(): string;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` exempts a route from the per-IP rate limit (health checks). */
    rateLimit?: false;
  }
}

/** Routes whose every request is authenticated (requireAuth); the others are public. */
function isAuthenticatedRoute(route: string): boolean {
  return route.startsWith('/api/') || route === RELAY_PATHS.mcp;
}

/** The default root logger: redacts credentials wherever they appear. */
export function createRelayLogger(level = 'info'): Logger {
  return createRootLogger('sluice-relay', { level });
}

/** Build the relay: Fastify app with /api/v2, /mcp, the connector endpoints and the websocket upgrade handler. */
export async function buildRelay(deps: RelayDeps, configInput: RelayConfigInput = {}): Promise<Relay> {
  const config = parseRelayConfig(configInput);
  const log = deps.logger ?? createRelayLogger('warn');
  const now = deps.now ?? Date.now;
  const receiveLimits = {
    requestTimeout: config.bodyTimeoutMs,
    headersTimeout: config.bodyTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.bodyTimeoutMs / 2))),
  };
  const challenge = oauthChallenge(() => resourceMetadataUrl(ctx));
  const app = Fastify({
    ...errorMapperOptions(challenge),
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    forceCloseConnections: true,
    // Fastify takes a hop count too (proxy-addr semantics); its types only list the other forms.
    trustProxy: config.trustProxy as string | boolean,
    requestTimeout: config.bodyTimeoutMs,
    // Node checks request timeouts on this interval (30 s by default), so a short timeout needs a short interval.
    http: receiveLimits,
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key, ...receiveLimits } } : {}),
  } as never) as unknown as FastifyInstance;

  // Fastify's two info lines per request cost a quarter of a relay hop's CPU; the audit log already records every
  // call, so access lines go to debug and only server errors stand out.
  app.addHook('onResponse', (request, reply, done) => {
    const line = { method: request.method, url: request.routeOptions.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) request.log.warn(line, 'request completed');
    else request.log.debug(line, 'request completed');
    done();
  });

  const origin = (): string => {
    if (config.publicUrl) return new URL(config.publicUrl).origin;
    const addr = app.server.address() as AddressInfo | null;
    return `${config.tls ? 'https' : 'http'}://127.0.0.1:${addr?.port ?? 0}`;
  };
  const store = deps.store;
  const refusals = new RefusalAudit(store, config.auditRefusalIntervalMs, now);
  // On PostgreSQL this relay is one replica of several: calls route to whichever replica holds the instance.
  const router = store instanceof PostgresRelayStore ? new ReplicaRouter(store, () => hub, log.child({ component: 'replicas' }), now) : undefined;
  const hub: ConnectorHub = new ConnectorHub(store, {
    ...(router ? { presence: router.presence, challengeLedger: new PgChallengeLedger(store as PostgresRelayStore) } : {}),
    auditRefusal: (entry) => refusals.record(entry),
    heartbeatMs: config.heartbeatMs,
    helloTimeoutMs: config.helloTimeoutMs,
    challengeTtlMs: config.challengeTtlMs,
    clockSkewMs: config.clockSkewMs,
    relayOrigin: origin,
    // Upgrades see the socket peer; behind a proxy the challenge request (a normal route) carries the forwarded IP.
    clientIp: (req) => req.socket.remoteAddress ?? null,
    now,
    log: log.child({ component: 'connectors' }),
  });
  const auth = new Authenticator(store, config, () => mcpResourceUrl({ origin }), now, refusals);
  const streams = new StreamGuards(auth, config.streamRecheckMs);
  const live: LiveRelay = {
    instanceChanged: async (instanceId) => {
      if (router) await new ReplicaNotices(store as PostgresRelayStore).instanceChanged(instanceId);
      return { reached: true, closed: await hub.enforceInstanceState(instanceId) };
    },
    credentialsRevoked: () => streams.revoked(),
  };
  if (router && store instanceof PostgresRelayStore) {
    await router.start();
    await store.bus.on(INSTANCE_CHANGED_CHANNEL, (instanceId) => void hub.enforceInstanceState(instanceId).catch((err: unknown) => log.warn({ err }, 'enforcing an instance change failed')));
    store.onCredentialsRevoked(() => streams.revoked());
  }
  const routes = router ?? localRoutes(hub);
  // Loaded only when configured: the authorization server library is large, and warns about Node 20 when loaded.
  const oauthServer = config.oauthServer
    ? (await import('../oauth/oauth-server.js')).createOAuthServer({ store, config, refusals, live, now, issuer: origin, resource: () => mcpResourceUrl({ origin }), fetch: deps.clientDocumentFetch ?? {} })
    : undefined;
  const ctx: RelayContext = {
    store,
    hub,
    admin: new AdminService(store, live),
    dispatcher: new Dispatcher(store, routes, { requestTimeoutMs: config.requestTimeoutMs, maxWaitingCallsPerCaller: config.maxWaitingCallsPerCaller, dispatchAnswerTtlMs: config.dispatchAnswerTtlMs }),
    auth,
    refusals,
    streams,
    limits: new RateLimiter(config.rateLimit.max, config.rateLimit.timeWindowMs, now),
    config,
    log,
    now,
    origin,
    ...(oauthServer ? { oauthServer } : {}),
  };

  const securityHeaders = await computeSecurityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders);
    done();
  });
  // Authenticated routes count per principal in requireAuth; everything else counts per client IP here.
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (request.routeOptions.config.rateLimit === false || (route !== undefined && isAuthenticatedRoute(route))) return;
    limitRate(ctx, reply, `ip:${request.ip}`);
  });
  // Planner APIs are for servers and MCP hosts; a browser page of another origin must not ride a token it holds.
  app.addHook('onRequest', async (request) => {
    const origin = request.headers.origin;
    // The route that matched, not the raw URL: `/%61pi/v2/…` routes to `/api/v2/…` too.
    const route = request.routeOptions.url ?? request.url;
    if (origin === undefined || !(route.startsWith('/api/') || route.startsWith(RELAY_PATHS.mcp))) return;
    if (origin !== ctx.origin() && !config.allowedOrigins.some((o) => new URL(o).origin === origin)) throw new SluiceError('ORIGIN_NOT_ALLOWED');
  });
  installErrorMapper(app, challenge);
  registerPublicRoutes(app, ctx);
  registerConnectorRoutes(app, ctx);
  registerVerbRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerMcpRoute(app, ctx);
  if (oauthServer) registerOAuthRoutes(app, ctx, oauthServer);

  app.server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  // Before the server waits for open requests: closing sessions fails their in-flight calls (long polls, SSE) at once.
  app.addHook('preClose', (done) => {
    router?.close();
    hub.close();
    refusals.stop();
    oauthServer?.stop();
    done();
  });

  let closing: Promise<void> | undefined;
  return {
    app,
    hub,
    live,
    config,
    origin,
    close: () => (closing ??= app.close()),
  };
}
