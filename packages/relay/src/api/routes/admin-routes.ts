import type { FastifyInstance } from 'fastify';
import { hasScope, InstanceId, SluiceError } from '@sluice/shared-protocol';
import { isInstanceAction } from '../../admin/admin-service.js';
import { requireOrgWide } from '../../auth/principal.js';
import type { Principal } from '../../auth/principal.js';
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
}
