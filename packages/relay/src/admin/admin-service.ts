import { SluiceError } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';
import type { InstanceRecord, InstanceState, OrgRecord, RelayStore, TokenRecord } from '../store/relay-store.js';

/** Who asks for a change, as its audit row names it; `orgId` confines an org admin to their own org. */
export interface AdminCaller {
  actor: string;
  ip?: string | null;
  /** Set for an org admin (HTTP): targets of another org are not found. Unset for the operator (CLI). */
  orgId?: string;
}

export type InstanceAction = 'disable' | 'enable' | 'revoke';

/** The state each instance action sets. */
export const INSTANCE_ACTIONS: Readonly<Record<InstanceAction, InstanceState>> = { disable: 'disabled', enable: 'active', revoke: 'revoked' };

export function isInstanceAction(action: string): action is InstanceAction {
  return Object.prototype.hasOwnProperty.call(INSTANCE_ACTIONS, action);
}

/** What the live side did about a change: `closed` sessions, or `unreached` when no running relay could be told. */
export type LiveOutcome = { reached: true; closed: number } | { reached: false; why: string };

/** The running relay's sessions and streams, as the admin service tells them about a change it made in the store. */
export interface LiveRelay {
  /** An instance changed state: close its live sessions if the store now refuses it. */
  instanceChanged(instanceId: string): Promise<LiveOutcome>;
  /** Planner credentials were revoked: open event streams re-check theirs now. */
  credentialsRevoked(): void;
}

/**
 * Every change an admin makes to orgs, planner tokens, enrollment tokens, instances and OAuth subjects, with its audit
 * row and its effect on live sessions. The admin HTTP routes and the CLI both go through it, so a rule lives once.
 */
export class AdminService {
  constructor(
    private readonly store: RelayStore,
    private readonly live: LiveRelay,
  ) {}

  async createOrg(name: string, by: AdminCaller): Promise<OrgRecord> {
    const rec = await this.store.createOrg(name);
    await this.store.appendAudit({ orgId: rec.id, actor: by.actor, action: 'org.create', target: rec.id, outcome: 'ok', ip: by.ip ?? null, detail: { name } });
    return rec;
  }

  async createToken(
    input: { orgId: string; name: string; scopes: Scope[]; instanceAllowlist: string[] | null; expiresAt: number | null },
    by: AdminCaller,
  ): Promise<{ record: TokenRecord; secret: string }> {
    const created = await this.store.createToken(input);
    const { record } = created;
    await this.store.appendAudit({ orgId: record.orgId, actor: by.actor, action: 'token.create', target: record.id, outcome: 'ok', ip: by.ip ?? null, detail: { name: record.name, scopes: record.scopes } });
    return created;
  }

  async revokeToken(tokenId: string, by: AdminCaller): Promise<{ changed: boolean }> {
    const rec = (await this.store.listTokens(by.orgId)).find((r) => r.id === tokenId);
    if (!rec) throw new SluiceError('NOT_FOUND', 'No such token.');
    const changed = await this.store.revokeToken(tokenId);
    this.live.credentialsRevoked();
    await this.store.appendAudit({ orgId: rec.orgId, actor: by.actor, action: 'token.revoke', target: tokenId, outcome: changed ? 'ok' : 'already_revoked', ip: by.ip ?? null });
    return { changed };
  }

  /** "Sign out everywhere": every planner token of the org. */
  async revokeAllTokens(orgId: string, by: AdminCaller): Promise<{ revoked: number }> {
    const revoked = await this.store.revokeAllTokens(orgId);
    this.live.credentialsRevoked();
    await this.store.appendAudit({ orgId, actor: by.actor, action: 'tokens.revoke_all', outcome: 'ok', ip: by.ip ?? null, detail: { revoked } });
    return { revoked };
  }

  async createEnrollmentToken(orgId: string, ttlMinutes: number, by: AdminCaller): Promise<{ id: string; secret: string; expiresAt: number }> {
    if (!Number.isInteger(ttlMinutes) || ttlMinutes < 1 || ttlMinutes > 1440) throw new SluiceError('INVALID_INPUT', '--ttl-minutes must be 1-1440.');
    const enr = await this.store.createEnrollmentToken(orgId, ttlMinutes * 60_000);
    await this.store.appendAudit({ orgId, actor: by.actor, action: 'enrollment_token.create', target: enr.id, outcome: 'ok', ip: by.ip ?? null, detail: { ttlMinutes } });
    return enr;
  }

  /** Disable, enable or revoke an instance; a revoked instance stays revoked (it must enroll again). */
  async changeInstance(instanceId: string, action: InstanceAction, by: AdminCaller): Promise<{ instance: InstanceRecord; live: LiveOutcome }> {
    const before = await this.store.getInstance(instanceId);
    if (!before || (by.orgId !== undefined && before.orgId !== by.orgId)) throw new SluiceError('INSTANCE_NOT_FOUND');
    const state = INSTANCE_ACTIONS[action];
    if (before.state === 'revoked' && state !== 'revoked') throw new SluiceError('INSTANCE_REVOKED');
    const instance = (await this.store.setInstanceState(instanceId, state))!;
    const live = await this.live.instanceChanged(instanceId);
    await this.store.appendAudit({ orgId: instance.orgId, actor: by.actor, action: `instance.${action}`, target: instanceId, outcome: 'ok', ip: by.ip ?? null, detail: {} });
    return { instance, live };
  }

  async revokeOAuthSubject(issuer: string, subject: string, by: AdminCaller): Promise<{ changed: boolean }> {
    const changed = await this.store.revokeOAuthSubject(issuer, subject, by.actor);
    this.live.credentialsRevoked();
    await this.store.appendAudit({ orgId: null, actor: by.actor, action: 'oauth.revoke_subject', target: subject.slice(0, 200), outcome: changed ? 'ok' : 'already_revoked', ip: by.ip ?? null, detail: { issuer } });
    return { changed };
  }

  async restoreOAuthSubject(issuer: string, subject: string, by: AdminCaller): Promise<void> {
    const changed = await this.store.restoreOAuthSubject(issuer, subject);
    if (!changed) throw new SluiceError('NOT_FOUND', 'That subject is not revoked.');
    await this.store.appendAudit({ orgId: null, actor: by.actor, action: 'oauth.restore_subject', target: subject.slice(0, 200), outcome: 'ok', ip: by.ip ?? null, detail: { issuer } });
  }
}
