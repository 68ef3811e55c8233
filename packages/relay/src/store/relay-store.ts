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
