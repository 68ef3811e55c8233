import type { FastifyInstance } from 'fastify';
import { CLOSE_CODES, hasScope, InstanceId, SluiceError } from '@sluice/shared-protocol';
import { requireOrgWide } from '../../auth/principal.js';
import type { Principal } from '../../auth/principal.js';
import type { InstanceState } from '../../store/relay-store.js';
import type { RelayContext } from '../context.js';
import { principalOf, requireAuth } from '../context.js';

const ACTIONS: Record<string, { state: InstanceState; close?: { code: number; reason: string } }> = {
  disable: { state: 'disabled', close: { code: CLOSE_CODES.disabled, reason: 'instance disabled' } },
  enable: { state: 'active' },
  revoke: { state: 'revoked', close: { code: CLOSE_CODES.revoked, reason: 'instance revoked' } },
};

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
    const revoked = await ctx.store.revokeAllTokens(p.orgId);
    ctx.streams.revoked();
    await ctx.store.appendAudit({ orgId: p.orgId, actor: p.actor, action: 'tokens.revoke_all', outcome: 'ok', ip: request.ip, detail: { revoked } });
    return { revoked };
  });

  app.post('/api/v2/admin/instances/:instanceId/:action', { preHandler: auth }, async (request) => {
    const p = principalOf(request);
    requireAdmin(p);
    const { instanceId, action } = request.params as { instanceId: string; action: string };
    const what = Object.prototype.hasOwnProperty.call(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (!what) throw new SluiceError('NOT_FOUND');
    const inst = InstanceId.safeParse(instanceId).success ? await ctx.store.getInstance(instanceId) : undefined;
    if (!inst || inst.orgId !== p.orgId) throw new SluiceError('INSTANCE_NOT_FOUND');
    if (inst.state === 'revoked' && what.state !== 'revoked') throw new SluiceError('INSTANCE_REVOKED');
    const updated = (await ctx.store.setInstanceState(inst.id, what.state))!;
    if (what.close) ctx.hub.closeInstance(inst.id, what.close.code, what.close.reason);
    await ctx.store.appendAudit({ orgId: p.orgId, actor: p.actor, action: `instance.${action}`, target: inst.id, outcome: 'ok', ip: request.ip, detail: {} });
    return { instanceId: updated.id, name: updated.name, state: updated.state };
  });
}
