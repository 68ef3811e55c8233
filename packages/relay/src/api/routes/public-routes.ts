import type { FastifyInstance } from 'fastify';
import { SCOPES } from '@sluice/shared-protocol';
import { readReleaseInfo } from '@sluice/node-kit';
import { RELAY_VERSION } from '../../version.js';
import type { RelayContext } from '../context.js';
import { mcpResourceUrl } from '../context.js';

/** `/healthz` and the RFC 9728 protected-resource metadata; every other `/.well-known/*` path is a real 404. */
export function registerPublicRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const { commit, manifestSha256 } = readReleaseInfo();
  app.get('/healthz', { config: { rateLimit: false } }, () => ({ status: 'ok', version: RELAY_VERSION, commit, manifestSha256 }));

  const metadata = () => ({
    resource: mcpResourceUrl(ctx),
    authorization_servers: ctx.config.oauth ? [ctx.config.oauth.issuer] : ctx.config.oauthServer ? [ctx.origin()] : [],
    scopes_supported: [...SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'Sluice relay',
  });
  app.get('/.well-known/oauth-protected-resource', metadata);
  app.get('/.well-known/oauth-protected-resource/mcp', metadata);
}
