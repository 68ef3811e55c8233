import type { Scope } from '@sluice/shared-protocol';
import type { AuditRow } from '../audit/audit-chain.js';
import type { AdminAccountRecord, InstanceRecord, InstanceState, OAuthGrantRecord, OAuthRecord, OrgRecord, RevokedOAuthSubject, TokenRecord } from './relay-store.js';

/** Rows as both SQL stores hold them (snake_case columns, times as milliseconds), and the records they map to. */

export type OrgRow = { id: string; name: string; created_at: number };
export const toOrg = (r: OrgRow): OrgRecord => ({ id: r.id, name: r.name, createdAt: r.created_at });

export interface TokenRow {
  id: string;
  org_id: string;
  name: string;
  hash: string;
  scopes: string;
  instance_allowlist: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  hash: r.hash,
  scopes: JSON.parse(r.scopes) as Scope[],
  instanceAllowlist: r.instance_allowlist === null ? null : (JSON.parse(r.instance_allowlist) as string[]),
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  createdAt: r.created_at,
});

export interface InstanceRow {
  id: string;
  org_id: string;
  name: string;
  public_key: string | null;
  state: InstanceState;
  last_seen_at: number | null;
  created_at: number;
}

export const toInstance = (r: InstanceRow): InstanceRecord => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  publicKey: r.public_key,
  state: r.state,
  lastSeenAt: r.last_seen_at,
  createdAt: r.created_at,
});

export type SubjectRow = { issuer: string; subject: string; revoked_at: number; revoked_by: string };
export const toSubject = (r: SubjectRow): RevokedOAuthSubject => ({ issuer: r.issuer, subject: r.subject, revokedAt: r.revoked_at, revokedBy: r.revoked_by });

export interface AuditDbRow {
  seq: number;
  at: number;
  org_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

export const toAudit = (r: AuditDbRow): AuditRow => ({
  seq: r.seq,
  at: r.at,
  orgId: r.org_id,
  actor: r.actor,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  ip: r.ip,
  detail: r.detail,
  prevHash: r.prev_hash,
  hash: r.hash,
});

/** The audit columns in insert order, and the values of a row in that order. */
export const AUDIT_COLUMNS = 'seq, at, org_id, actor, action, target, outcome, ip, detail, prev_hash, hash';
export const auditValues = (row: AuditRow): unknown[] => [row.seq, row.at, row.orgId, row.actor, row.action, row.target, row.outcome, row.ip, row.detail, row.prevHash, row.hash];

export interface OAuthRecordRow {
  model: string;
  id_hash: string;
  payload: string;
  grant_id: string | null;
  uid_hash: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export const OAUTH_RECORD_COLUMNS = 'model, id_hash, payload, grant_id, uid_hash, expires_at, consumed_at';
export const toOAuthRecord = (r: OAuthRecordRow): OAuthRecord => ({
  model: r.model,
  idHash: r.id_hash,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  grantId: r.grant_id,
  uidHash: r.uid_hash,
  expiresAt: r.expires_at,
  consumedAt: r.consumed_at,
});

export interface OAuthGrantRow {
  id: string;
  org_id: string;
  client_id: string;
  client_name: string;
  scopes: string;
  instance_allowlist: string | null;
  approved_by: string;
  created_at: number;
  revoked_at: number | null;
}

export const OAUTH_GRANT_COLUMNS = 'id, org_id, client_id, client_name, scopes, instance_allowlist, approved_by, created_at, revoked_at';
export const toOAuthGrant = (r: OAuthGrantRow): OAuthGrantRecord => ({
  id: r.id,
  orgId: r.org_id,
  clientId: r.client_id,
  clientName: r.client_name,
  scopes: JSON.parse(r.scopes) as Scope[],
  instanceAllowlist: r.instance_allowlist === null ? null : (JSON.parse(r.instance_allowlist) as string[]),
  approvedBy: r.approved_by,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** The grant as stored: its scopes once each, sorted. */
export const newOAuthGrant = (input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>, now: number): OAuthGrantRecord => ({ ...input, scopes: [...new Set(input.scopes)].sort(), createdAt: now, revokedAt: null });

/** A grant's columns in OAUTH_GRANT_COLUMNS order. */
export const oauthGrantValues = (g: OAuthGrantRecord): unknown[] => [g.id, g.orgId, g.clientId, g.clientName, JSON.stringify(g.scopes), g.instanceAllowlist === null ? null : JSON.stringify(g.instanceAllowlist), g.approvedBy, g.createdAt, g.revokedAt];

export interface AdminAccountRow {
  id: string;
  name: string;
  password_hash: string;
  org_ids: string;
  scopes: string;
  created_at: number;
}

export const ADMIN_ACCOUNT_COLUMNS = 'id, name, password_hash, org_ids, scopes, created_at';
export const toAdminAccount = (r: AdminAccountRow): AdminAccountRecord => ({
  id: r.id,
  name: r.name,
  passwordHash: r.password_hash,
  orgIds: JSON.parse(r.org_ids) as string[],
  scopes: JSON.parse(r.scopes) as Scope[],
  createdAt: r.created_at,
});

/** An account's columns in ADMIN_ACCOUNT_COLUMNS order. */
export const adminAccountValues = (a: AdminAccountRecord): unknown[] => [a.id, a.name, a.passwordHash, JSON.stringify(a.orgIds), JSON.stringify(a.scopes), a.createdAt];
