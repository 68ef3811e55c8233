import { randomBytes } from 'node:crypto';
import { SCOPES, SluiceError } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';
import type Provider from 'oidc-provider';
import type { AdminAccountRecord, OAuthGrantRecord, RelayStore } from '../store/relay-store.js';
import { hashSecret } from '../tokens/token-format.js';
import type { ClientSummary, ConsentChoices } from './consent-page.js';

type ProviderClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** What the consent page shows of a client: its name and host come from its own metadata (document or registration). */
export function summarizeClient(client: ProviderClient, redirectUri: string): ClientSummary {
  const isDocument = client.clientId.startsWith('https://');
  const host = new URL(isDocument ? client.clientId : redirectUri).host;
  return { name: client.clientName ?? host, host, clientId: client.clientId, redirectUri, kind: isDocument ? 'metadata-document' : 'registered' };
}

export function scopesOf(text: unknown): string[] {
  return typeof text === 'string' ? [...new Set(text.split(' ').filter(Boolean))] : [];
}

/** The orgs, instances and scopes this admin may choose from for this request. */
export async function choicesFor(store: RelayStore, admin: AdminAccountRecord, asked: readonly string[]): Promise<ConsentChoices> {
  const orgs = [];
  for (const id of admin.orgIds) {
    const org = await store.getOrg(id);
    if (!org) continue;
    const instances = (await store.listInstances(id)).filter((i) => i.state === 'active').map((i) => ({ id: i.id, name: i.name }));
    orgs.push({ id, name: org.name, instances });
  }
  const known = asked.filter((s) => (SCOPES as readonly string[]).includes(s));
  return { orgs, grantable: known.filter((s) => admin.scopes.includes(s as Scope)), refused: asked.filter((s) => !admin.scopes.includes(s as Scope)) };
}

export interface Decision {
  orgId: string;
  scopes: Scope[];
  instances: string[];
}

/** Check an approval against what the admin may grant (the store checks the instances); throws a catalog error. */
export async function checkDecision(store: RelayStore, admin: AdminAccountRecord, asked: readonly string[], d: Decision): Promise<void> {
  if (!admin.orgIds.includes(d.orgId) || !(await store.getOrg(d.orgId))) throw new SluiceError('INSUFFICIENT_SCOPE', 'That org is not yours to grant.');
  if (d.scopes.length === 0) throw new SluiceError('INVALID_INPUT', 'Pick at least one scope.');
  for (const s of d.scopes) {
    if (!admin.scopes.includes(s)) throw new SluiceError('INSUFFICIENT_SCOPE', `The scope ${s} is not yours to grant.`);
    if (!asked.includes(s)) throw new SluiceError('INVALID_INPUT', `The client did not ask for ${s}.`);
  }
}

/**
 * Record the approval: the relay's view of it first (the store refuses what the grant may not reach), then the
 * authorization server's grant for the resource, under the same id.
 */
export async function approve(provider: Provider, store: RelayStore, o: { client: ClientSummary; resource: string; admin: AdminAccountRecord; decision: Decision }): Promise<OAuthGrantRecord> {
  const grantId = randomBytes(32).toString('base64url');
  const record = await store.createOAuthGrant({
    id: grantId,
    orgId: o.decision.orgId,
    clientId: o.client.clientId,
    clientName: o.client.name,
    scopes: o.decision.scopes,
    instanceAllowlist: o.decision.instances.length > 0 ? o.decision.instances : null,
    approvedBy: o.admin.id,
  });
  const grant = new provider.Grant({ jti: grantId, accountId: o.decision.orgId, clientId: o.client.clientId } as ConstructorParameters<Provider['Grant']>[0]);
  grant.addResourceScope(o.resource, o.decision.scopes.join(' '));
  await grant.save();
  // An approved registration no longer expires for being unused; revoking the client deletes it.
  await store.setOAuthRecordExpiry('Client', hashSecret(o.client.clientId), null);
  return record;
}
