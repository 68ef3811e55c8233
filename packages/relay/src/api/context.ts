import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { ConnectorHub } from '../connectors/connector-hub.js';
import type { Dispatcher } from '../routing/dispatcher.js';
import type { RelayStore } from '../store/relay-store.js';
import type { StreamGuards } from './stream-guards.js';

/** What the route modules share. */
export interface RelayContext {
  store: RelayStore;
  hub: ConnectorHub;
  dispatcher: Dispatcher;
  auth: Authenticator;
  streams: StreamGuards;
  config: RelayConfig;
  log: Logger;
  now: () => number;
  /** Public origin, e.g. `https://relay.example.com`. */
  origin: () => string;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** A preHandler that authenticates the bearer token and remembers the principal for the route. */
export function requireAuth(ctx: RelayContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const p = await ctx.auth.authenticate(request.headers.authorization, request.ip, request.url.split('?')[0] ?? '');
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
