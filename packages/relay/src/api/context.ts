import type { FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '@sluice/shared-protocol';
import type { Logger } from 'pino';
import type { AdminService } from '../admin/admin-service.js';
import type { RefusalAudit } from '../audit/refusal-audit.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { ConnectorHub } from '../connectors/connector-hub.js';
import type { Dispatcher } from '../routing/dispatcher.js';
import type { RelayStore } from '../store/relay-store.js';
import type { RateLimiter } from './rate-limiter.js';
import type { OAuthServerParts } from './routes/oauth-routes.js';
import type { StreamGuards } from './stream-guards.js';

/** What the route modules share. */
export interface RelayContext {
  store: RelayStore;
  hub: ConnectorHub;
  admin: AdminService;
  dispatcher: Dispatcher;
  auth: Authenticator;
  streams: StreamGuards;
  limits: RateLimiter;
  /** Audit rows of refusals anyone can provoke, one per reason and source per interval. */
  refusals: RefusalAudit;
  config: RelayConfig;
  log: Logger;
  now: () => number;
  /** Public origin, e.g. `https://relay.example.com`. */
  origin: () => string;
  /** The built-in authorization server, when configured. */
  oauthServer?: OAuthServerParts;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** Count a request against the rate limit of `key`; over it, RATE_LIMITED with a Retry-After header. */
export function limitRate(ctx: RelayContext, reply: FastifyReply, key: string): void {
  const retryAfterS = ctx.limits.take(key);
  if (retryAfterS === undefined) return;
  void reply.header('retry-after', String(retryAfterS));
  throw new SluiceError('RATE_LIMITED', `Too many requests; retry in ${retryAfterS} s.`, undefined, { retryAfterMs: retryAfterS * 1000 });
}

/**
 * A preHandler that authenticates the bearer token and remembers the principal for the route. The request counts
 * against the principal's rate limit, or against the client IP's when authentication fails.
 */
export function requireAuth(ctx: RelayContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let p: Principal;
    try {
      p = await ctx.auth.authenticate(request.headers.authorization, request.ip, request.url.split('?')[0] ?? '');
    } catch (err) {
      limitRate(ctx, reply, `ip:${request.ip}`);
      throw err;
    }
    limitRate(ctx, reply, `principal:${p.actor}`);
    principals.set(request, p);
  };
}

/** The principal a `requireAuth` preHandler put on the request. */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw new Error('route is missing requireAuth');
  return p;
}

/** The MCP resource URL (the OAuth audience) and its RFC 9728 metadata URL. */
export function mcpResourceUrl(ctx: Pick<RelayContext, 'origin'>): string {
  return `${ctx.origin()}/mcp`;
}
export function resourceMetadataUrl(ctx: Pick<RelayContext, 'origin'>): string {
  return `${ctx.origin()}/.well-known/oauth-protected-resource/mcp`;
}
