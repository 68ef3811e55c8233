import { randomBytes } from 'node:crypto';
import { newId, SluiceError } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';
import { ORG_WIDE_SCOPES } from '../auth/principal.js';
import { generateSecret, hashSecret } from '../tokens/token-format.js';
import type { InstanceRecord, OrgRecord, TokenRecord } from './relay-store.js';

export type TokenInput = { orgId: string; name: string; scopes: Scope[]; instanceAllowlist?: string[] | null; expiresAt?: number | null };

/** The org, or NOT_FOUND. */
export async function requireOrg(get: (id: string) => Promise<OrgRecord | undefined> | OrgRecord | undefined, id: string): Promise<OrgRecord> {
  const org = await get(id);
  if (!org) throw new SluiceError('NOT_FOUND', 'No such org.');
  return org;
}

/** Refuse a token for a missing org, an allowlist on org-wide scopes, or an allowlist naming another org's instance. */
export async function checkTokenInput(
  input: TokenInput,
  lookup: { org(id: string): Promise<OrgRecord | undefined> | OrgRecord | undefined; instance(id: string): Promise<InstanceRecord | undefined> | InstanceRecord | undefined },
): Promise<void> {
  await requireOrg(lookup.org, input.orgId);
  const orgWide = input.scopes.filter((s) => (ORG_WIDE_SCOPES as readonly string[]).includes(s));
  if (input.instanceAllowlist && orgWide.length > 0) {
    throw new SluiceError('INVALID_INPUT', `A token limited to some instances cannot have ${orgWide.join(', ')}: it covers the whole org.`);
  }
  for (const id of input.instanceAllowlist ?? []) {
    if ((await lookup.instance(id))?.orgId !== input.orgId) throw new SluiceError('INSTANCE_NOT_FOUND', `No instance ${id} in this org.`);
  }
}

/** A new token record and its secret (shown once; only the hash is stored). */
export function newToken(input: TokenInput, now: number): { record: TokenRecord; secret: string } {
  const secret = generateSecret('planner');
  const record: TokenRecord = {
    id: newId('token', (n) => randomBytes(n)),
    orgId: input.orgId,
    name: input.name,
    hash: hashSecret(secret),
    scopes: [...new Set(input.scopes)],
    instanceAllowlist: input.instanceAllowlist ?? null,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    lastUsedAt: null,
    createdAt: now,
  };
  return { record, secret };
}

/** The enrollment token fields a store inserts: the secret goes to the operator, its hash to the table. */
export function newEnrollmentToken(now: number, ttlMs: number): { id: string; secret: string; hash: string; createdAt: number; expiresAt: number } {
  const secret = generateSecret('enrollment');
  return { id: newId('token', (n) => randomBytes(n)), secret, hash: hashSecret(secret), createdAt: now, expiresAt: now + ttlMs };
}

/** A new active instance of `orgId`. */
export function newInstance(orgId: string, input: { name: string; publicKey: string }, now: number): InstanceRecord {
  return { id: newId('instance', (n) => randomBytes(n)), orgId, name: input.name, publicKey: input.publicKey, state: 'active', lastSeenAt: null, createdAt: now };
}

/** A new org record. */
export function newOrg(name: string, now: number): OrgRecord {
  return { id: newId('org', (n) => randomBytes(n)), name, createdAt: now };
}

/** Org names are unique across the relay. */
export const orgNameTaken = (name: string): SluiceError => new SluiceError('BAD_REQUEST', `An org named "${name}" already exists.`);
