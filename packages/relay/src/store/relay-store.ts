import type { Scope } from '@sluice/shared-protocol';
import type { AuditRow, AuditVerification } from '../audit/audit-chain.js';

export interface OrgRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface TokenRecord {
  id: string;
  orgId: string;
  name: string;
  hash: string;
  scopes: Scope[];
  instanceAllowlist: string[] | null;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  createdAt: number;
}

export type InstanceState = 'active' | 'disabled' | 'revoked';

export interface InstanceRecord {
  id: string;
  orgId: string;
  name: string;
  /** Raw Ed25519 public key, base64url; null once revoked. */
  publicKey: string | null;
  state: InstanceState;
  lastSeenAt: number | null;
  createdAt: number;
}

export interface AuditInput {
  orgId: string | null;
  actor: string;
  action: string;
  target?: string | null;
  outcome: string;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

/** What a `steps.dispatch` with an idempotency key left behind: never the input itself, only its hash. */
export interface DispatchAnswerRecord {
  inputHash: string;
  stepId: string;
}

/** What holds an idempotency key another caller claimed: its answer's step id once it has one. */
export interface DispatchClaim {
  inputHash: string;
  stepId: string | null;
}

export interface RevokedOAuthSubject {
  issuer: string;
  subject: string;
  revokedAt: number;
  revokedBy: string;
}

/**
 * One object of the built-in authorization server (a client, grant, code, token, interaction or session), keyed by
 * the SHA-256 of its id: for codes and tokens the id is the secret itself, so only its hash is kept.
 */
export interface OAuthRecord {
  /** The authorization server's model name (`Client`, `AccessToken`, `RefreshToken`...). */
  model: string;
  idHash: string;
  payload: Record<string, unknown>;
  grantId: string | null;
  uidHash: string | null;
  /** Null: kept until deleted. */
  expiresAt: number | null;
  consumedAt: number | null;
}

/** What an org admin approved for one OAuth client: the org, the scopes and the instances its tokens reach. */
export interface OAuthGrantRecord {
  id: string;
  orgId: string;
  clientId: string;
  clientName: string;
  scopes: Scope[];
  instanceAllowlist: string[] | null;
  /** The admin account that approved it. */
  approvedBy: string;
  createdAt: number;
  revokedAt: number | null;
}

/** A person who may approve OAuth clients for some orgs, signing in with a password (only its scrypt hash kept). */
export interface AdminAccountRecord {
  id: string;
  name: string;
  passwordHash: string;
  orgIds: string[];
  /** The most an approval by this admin may grant. */
  scopes: Scope[];
  createdAt: number;
}

export interface AdminSessionRecord {
  hash: string;
  adminId: string;
  expiresAt: number;
}

/**
 * Everything the relay keeps: SQLite (one process, the default) and PostgreSQL (several replicas) implement it.
 * Every read that a planner can trigger takes the org id, so orgs stay isolated at the store boundary.
 */
export interface RelayStore {
  /** Commit queued audit rows, then release the connection. */
  close(): Promise<void>;

  createOrg(name: string): Promise<OrgRecord>;
  getOrg(id: string): Promise<OrgRecord | undefined>;
  listOrgs(): Promise<OrgRecord[]>;

  createToken(input: { orgId: string; name: string; scopes: Scope[]; instanceAllowlist?: string[] | null; expiresAt?: number | null }): Promise<{
    record: TokenRecord;
    secret: string;
  }>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(orgId?: string): Promise<TokenRecord[]>;
  revokeToken(id: string): Promise<boolean>;
  revokeAllTokens(orgId: string): Promise<number>;
  touchToken(id: string, at: number): Promise<void>;

  createEnrollmentToken(orgId: string, ttlMs: number): Promise<{ id: string; secret: string; expiresAt: number }>;
  /** Atomically marks an unused, unexpired enrollment token used and creates the instance; undefined if not valid. */
  enroll(hash: string, input: { name: string; publicKey: string }): Promise<InstanceRecord | undefined>;

  getInstance(id: string): Promise<InstanceRecord | undefined>;
  listInstances(orgId?: string): Promise<InstanceRecord[]>;
  /** Revoking also deletes the public key: the instance must enroll again. */
  setInstanceState(id: string, state: InstanceState): Promise<InstanceRecord | undefined>;
  /** Replace the public key of an active instance if it is still `from`; false when it changed or is gone. */
  rotateInstanceKey(id: string, from: string, to: string): Promise<boolean>;
  touchInstance(id: string, at: number): Promise<void>;

  /** The first owner recorded for (org, id) stays the owner. */
  recordOwner(orgId: string, id: string, instanceId: string): Promise<void>;
  getOwner(orgId: string, id: string): Promise<string | undefined>;

  /**
   * Claim (org, run, key) before sending a dispatch, so two relays (or two calls) never both send it: `true` when
   * this caller sends; otherwise what holds the key (a finished answer, or a claim in flight with `stepId` null).
   * Answers older than `ttlMs` and claims older than `staleMs` (their sender died) count as absent.
   */
  claimDispatch(orgId: string, runId: string, key: string, inputHash: string, opts: { ttlMs: number; staleMs: number }): Promise<true | DispatchClaim>;
  /** Drop this caller's claim after its dispatch failed, so a retry may send again. */
  releaseDispatch(orgId: string, runId: string, key: string, inputHash: string): Promise<void>;
  /** The answer stored for (org, run, key) within the last `ttlMs`; older ones and claims in flight count as absent. */
  getDispatchAnswer(orgId: string, runId: string, key: string, ttlMs: number): Promise<DispatchAnswerRecord | undefined>;
  /** Store an answer (completing a claim) and delete every answer older than `ttlMs`. */
  putDispatchAnswer(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): Promise<void>;

  /** Refuse every token of this OAuth subject from now on; false when it was already revoked. */
  revokeOAuthSubject(issuer: string, subject: string, by: string): Promise<boolean>;
  /** Accept the subject again; false when it was not revoked. */
  restoreOAuthSubject(issuer: string, subject: string): Promise<boolean>;
  isOAuthSubjectRevoked(issuer: string, subject: string): Promise<boolean>;
  listRevokedOAuthSubjects(): Promise<RevokedOAuthSubject[]>;

  /** Insert or replace the record of (model, idHash). */
  putOAuthRecord(record: Omit<OAuthRecord, 'consumedAt'>): Promise<void>;
  /** The record, expired ones included (the caller decides what an expired record means). */
  getOAuthRecord(model: string, idHash: string): Promise<OAuthRecord | undefined>;
  getOAuthRecordByUid(model: string, uidHash: string): Promise<OAuthRecord | undefined>;
  /** Mark a record consumed (a code exchanged, a refresh token rotated); false when it already was. */
  consumeOAuthRecord(model: string, idHash: string, at: number): Promise<boolean>;
  deleteOAuthRecord(model: string, idHash: string): Promise<void>;
  /** Delete every record of a grant (its codes and tokens); the number deleted. */
  deleteOAuthRecordsOfGrant(grantId: string): Promise<number>;
  /** Unexpired records of a model, oldest first. */
  listOAuthRecords(model: string): Promise<OAuthRecord[]>;
  /** Change when a record expires (null: never); false when there is none. */
  setOAuthRecordExpiry(model: string, idHash: string, expiresAt: number | null): Promise<boolean>;
  /** Delete records expired before `before`; the number deleted. */
  deleteExpiredOAuthRecords(before: number): Promise<number>;

  /** Record an approval; the org must exist, allowlisted instances must be of that org and exclude org-wide scopes. */
  createOAuthGrant(input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>): Promise<OAuthGrantRecord>;
  getOAuthGrant(id: string): Promise<OAuthGrantRecord | undefined>;
  listOAuthGrants(orgId?: string): Promise<OAuthGrantRecord[]>;
  /** False when it was already revoked or does not exist. */
  revokeOAuthGrant(id: string, at: number): Promise<boolean>;

  /** Names are unique; throws CONFLICT otherwise. */
  createAdminAccount(input: Omit<AdminAccountRecord, 'id' | 'createdAt'>): Promise<AdminAccountRecord>;
  findAdminAccount(name: string): Promise<AdminAccountRecord | undefined>;
  getAdminAccount(id: string): Promise<AdminAccountRecord | undefined>;
  listAdminAccounts(): Promise<AdminAccountRecord[]>;
  /** Sign-in sessions, by the hash of the cookie secret. */
  createAdminSession(record: AdminSessionRecord): Promise<void>;
  /** The session if unexpired at `now`. */
  findAdminSession(hash: string, now: number): Promise<AdminSessionRecord | undefined>;
  deleteAdminSession(hash: string): Promise<void>;

  /**
   * Queue an audit row (hash-chained); resolves once queued. Rows are committed right after the current event-loop
   * turn, through the chain's append-under-lock port.
   */
  appendAudit(entry: AuditInput): Promise<void>;
  /** Commit queued audit rows now. */
  flushAudit(): Promise<void>;
  listAudit(orgId: string, opts: { after?: number; limit: number }): Promise<AuditRow[]>;
  verifyAudit(): Promise<AuditVerification>;
}
