import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasScope, InstanceId, SluiceError } from '@sluice/shared-protocol';
import { isInstanceAction } from '../../admin/admin-service.js';
import { requireOrgWide } from '../../auth/principal.js';
import type { Principal } from '../../auth/principal.js';
import type { OAuthAdmin } from '../../oauth/oauth-admin.js';
import type { RelayContext } from '../context.js';
import { principalOf, requireAuth } from '../context.js';

function requireAdmin(p: Principal): void {
  if (!hasScope(p.scopes, 'admin')) throw new SluiceError('INSUFFICIENT_SCOPE', 'The token lacks the scope admin.');
  requireOrgWide(p, 'the admin routes');
}

/** Org admin: live sessions, "sign out everywhere", and disabling, enabling or revoking an instance. */
export function registerAdminRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const auth = requireAuth(ctx);

  app.get('/api/v2/admin/sessions', { preHandler: auth }, (request) => {
    const p = principalOf(request);
    requireAdmin(p);
    return { sessions: ctx.hub.listSessions(p.orgId) };
  });

  app.post('/api/v2/admin/tokens/revoke-all', { preHandler: auth }, async (request) => {
    const p = principalOf(request);
    requireAdmin(p);
    return ctx.admin.revokeAllTokens(p.orgId, { actor: p.actor, ip: request.ip, orgId: p.orgId });
  });

  app.post('/api/v2/admin/instances/:instanceId/:action', { preHandler: auth }, async (request) => {
    const p = principalOf(request);
    requireAdmin(p);
    const { instanceId, action } = request.params as { instanceId: string; action: string };
    if (!isInstanceAction(action)) throw new SluiceError('NOT_FOUND');
    if (!InstanceId.safeParse(instanceId).success) throw new SluiceError('INSTANCE_NOT_FOUND');
    const { instance } = await ctx.admin.changeInstance(instanceId, action, { actor: p.actor, ip: request.ip, orgId: p.orgId });
    return { instanceId: instance.id, name: instance.name, state: instance.state };
  });

  if (ctx.oauthServer) registerOAuthAdminRoutes(app, ctx, ctx.oauthServer.admin);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The org admin's view of the built-in authorization server: its org's grants and clients, and revoking them. */
function registerOAuthAdminRoutes(app: FastifyInstance, ctx: RelayContext, oauth: OAuthAdmin): void {
  const auth = requireAuth(ctx);
  const admin = (request: FastifyRequest) => {
    const p = principalOf(request);
    requireAdmin(p);
    return { actor: p.actor, ip: request.ip, orgId: p.orgId };
  };

  app.get('/api/v2/admin/oauth/grants', { preHandler: auth }, async (request) => {
    const by = admin(request);
    const grants = await oauth.listGrants(by.orgId);
    return { grants: grants.map((g) => ({ ...g, createdAt: iso(g.createdAt), revokedAt: iso(g.revokedAt) })) };
  });

  app.post('/api/v2/admin/oauth/grants/:grantId/revoke', { preHandler: auth }, async (request) => {
    const by = admin(request);
    const { grantId } = request.params as { grantId: string };
    const r = await oauth.revokeGrant(grantId.slice(0, 200), by);
    return { grantId, revoked: true, changed: r.changed };
  });

  app.get('/api/v2/admin/oauth/clients', { preHandler: auth }, async (request) => {
    const by = admin(request);
    return { clients: (await oauth.listClients(by.orgId)).map((c) => ({ ...c, expiresAt: iso(c.expiresAt) })) };
  });

  app.post('/api/v2/admin/oauth/clients/revoke', { preHandler: auth }, async (request) => {
    const by = admin(request);
    const clientId = (request.body as { clientId?: unknown } | undefined)?.clientId;
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2000) throw new SluiceError('INVALID_INPUT', 'clientId is a string of 1 to 2000 characters.');
    return { clientId, revoked: true, ...(await oauth.revokeClient(clientId, by)) };
  });
}
