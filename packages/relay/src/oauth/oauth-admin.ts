import { SluiceError } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';
import type { AdminCaller, LiveRelay } from '../admin/admin-service.js';
import type { AdminAccountRecord, OAuthGrantRecord, RelayStore } from '../store/relay-store.js';
import { hashSecret } from '../tokens/token-format.js';
import { REVOKED_CLIENT_MODEL } from './oauth-paths.js';
import { hashPassword } from './admin-password.js';

export interface OAuthClientView {
  clientId: string;
  name: string | null;
  /** `metadata-document` (the id is its URL) or `registered` (DCR). */
  kind: 'metadata-document' | 'registered';
  redirectUris: string[];
  /** Unapproved registrations expire; null once approved or for a document. */
  expiresAt: number | null;
  grants: number;
  revoked: boolean;
}

/** The built-in authorization server's clients, grants and admin accounts, for the CLI, the admin API and consent. */
export class OAuthAdmin {
  constructor(
    private readonly store: RelayStore,
    private readonly live: LiveRelay,
    private readonly now: () => number = Date.now,
  ) {}

  async listGrants(orgId?: string): Promise<OAuthGrantRecord[]> {
    return this.store.listOAuthGrants(orgId);
  }

  /** Refuse every token of the grant at once; an org admin (`by.orgId`) only finds its own org's grants. */
  async revokeGrant(grantId: string, by: AdminCaller, reason = 'revoked'): Promise<{ changed: boolean }> {
    const grant = await this.store.getOAuthGrant(grantId);
    if (!grant || (by.orgId !== undefined && grant.orgId !== by.orgId)) throw new SluiceError('NOT_FOUND', 'No such grant.');
    const changed = await this.store.revokeOAuthGrant(grantId, this.now());
    await this.store.deleteOAuthRecordsOfGrant(grantId);
    await this.store.deleteOAuthRecord('Grant', hashSecret(grantId));
    this.live.credentialsRevoked();
    await this.store.appendAudit({ orgId: grant.orgId, actor: by.actor, action: 'oauth.grant_revoke', target: grantId, outcome: changed ? 'ok' : 'already_revoked', ip: by.ip ?? null, detail: { clientId: grant.clientId, reason } });
    return { changed };
  }

  async listClients(orgId?: string): Promise<OAuthClientView[]> {
    const grants = await this.store.listOAuthGrants(orgId);
    const byClient = new Map<string, OAuthGrantRecord[]>();
    for (const g of grants) byClient.set(g.clientId, [...(byClient.get(g.clientId) ?? []), g]);
    const out = new Map<string, OAuthClientView>();
    if (orgId === undefined) {
      for (const r of await this.store.listOAuthRecords('Client')) {
        const p = r.payload;
        const id = String(p.client_id);
        out.set(id, { clientId: id, name: typeof p.client_name === 'string' ? p.client_name : null, kind: 'registered', redirectUris: (p.redirect_uris as string[]) ?? [], expiresAt: r.expiresAt, grants: 0, revoked: false });
      }
    }
    for (const [clientId, gs] of byClient) {
      const view = out.get(clientId) ?? { clientId, name: gs[0]!.clientName, kind: clientId.startsWith('https://') ? 'metadata-document' : 'registered', redirectUris: [], expiresAt: null, grants: 0, revoked: false };
      view.grants = gs.filter((g) => g.revokedAt === null).length;
      out.set(clientId, view);
    }
    for (const view of out.values()) view.revoked = (await this.store.getOAuthRecord(REVOKED_CLIENT_MODEL, hashSecret(view.clientId))) !== undefined;
    return [...out.values()];
  }

  /** Refuse the client from now on (its registration deleted, its document URL blocked) and revoke its grants. */
  async revokeClient(clientId: string, by: AdminCaller): Promise<{ grantsRevoked: number }> {
    const grants = (await this.store.listOAuthGrants(by.orgId)).filter((g) => g.clientId === clientId);
    const registered = await this.store.getOAuthRecord('Client', hashSecret(clientId));
    if (grants.length === 0 && !registered) throw new SluiceError('NOT_FOUND', 'No such client.');
    if (by.orgId === undefined) {
      await this.store.deleteOAuthRecord('Client', hashSecret(clientId));
      await this.store.putOAuthRecord({ model: REVOKED_CLIENT_MODEL, idHash: hashSecret(clientId), payload: { clientId, by: by.actor }, grantId: null, uidHash: null, expiresAt: null });
    }
    let revoked = 0;
    for (const g of grants) if ((await this.revokeGrant(g.id, by, 'client revoked')).changed) revoked++;
    await this.store.appendAudit({ orgId: by.orgId ?? null, actor: by.actor, action: 'oauth.client_revoke', target: clientId.slice(0, 200), outcome: 'ok', ip: by.ip ?? null, detail: { grantsRevoked: revoked } });
    return { grantsRevoked: revoked };
  }

  async createAdminAccount(input: { name: string; password: string; orgIds: string[]; scopes: Scope[] }, by: AdminCaller): Promise<AdminAccountRecord> {
    if (input.orgIds.length === 0) throw new SluiceError('INVALID_INPUT', 'An admin needs at least one org.');
    if (input.password.length < 12) throw new SluiceError('INVALID_INPUT', 'An admin password has at least 12 characters.');
    const account = await this.store.createAdminAccount({ name: input.name, passwordHash: await hashPassword(input.password), orgIds: input.orgIds, scopes: input.scopes });
    for (const orgId of input.orgIds) {
      await this.store.appendAudit({ orgId, actor: by.actor, action: 'oauth.admin_create', target: account.id, outcome: 'ok', ip: by.ip ?? null, detail: { name: account.name, scopes: account.scopes } });
    }
    return account;
  }
}
