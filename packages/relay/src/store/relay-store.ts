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

export interface RevokedOAuthSubject {
  issuer: string;
  subject: string;
  revokedAt: number;
  revokedBy: string;
}

/**
 * Everything the relay keeps. SQLite implements it today; the interface is small so a PostgreSQL store can follow.
 * Every read that a planner can trigger takes the org id, so orgs stay isolated at the store boundary.
 */
export interface RelayStore {
  close(): void;

  createOrg(name: string): OrgRecord;
  getOrg(id: string): OrgRecord | undefined;
  listOrgs(): OrgRecord[];

  createToken(input: { orgId: string; name: string; scopes: Scope[]; instanceAllowlist?: string[] | null; expiresAt?: number | null }): {
    record: TokenRecord;
    secret: string;
  };
  findTokenByHash(hash: string): TokenRecord | undefined;
  listTokens(orgId?: string): TokenRecord[];
  revokeToken(id: string): boolean;
  revokeAllTokens(orgId: string): number;
  touchToken(id: string, at: number): void;

  createEnrollmentToken(orgId: string, ttlMs: number): { id: string; secret: string; expiresAt: number };
  /** Atomically marks an unused, unexpired enrollment token used and creates the instance; undefined if not valid. */
  enroll(hash: string, input: { name: string; publicKey: string }): InstanceRecord | undefined;

  getInstance(id: string): InstanceRecord | undefined;
  listInstances(orgId?: string): InstanceRecord[];
  /** Revoking also deletes the public key: the instance must enroll again. */
  setInstanceState(id: string, state: InstanceState): InstanceRecord | undefined;
  /** Replace the public key of an active instance if it is still `from`; false when it changed or is gone. */
  rotateInstanceKey(id: string, from: string, to: string): boolean;
  touchInstance(id: string, at: number): void;

  recordOwner(orgId: string, id: string, instanceId: string): void;
  getOwner(orgId: string, id: string): string | undefined;

  /** The answer stored for (org, run, key) within the last `ttlMs`; older ones count as absent. */
  getDispatchAnswer(orgId: string, runId: string, key: string, ttlMs: number): DispatchAnswerRecord | undefined;
  /** Store an answer and delete every answer older than `ttlMs`. */
  putDispatchAnswer(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): void;

  /** Refuse every token of this OAuth subject from now on; false when it was already revoked. */
  revokeOAuthSubject(issuer: string, subject: string, by: string): boolean;
  /** Accept the subject again; false when it was not revoked. */
  restoreOAuthSubject(issuer: string, subject: string): boolean;
  isOAuthSubjectRevoked(issuer: string, subject: string): boolean;
  listRevokedOAuthSubjects(): RevokedOAuthSubject[];

  /** Queue an audit row (hash-chained); committed right after the current event-loop turn. */
  appendAudit(entry: AuditInput): void;
  /** Commit queued audit rows now. */
  flushAudit(): void;
  listAudit(orgId: string, opts: { after?: number; limit: number }): AuditRow[];
  verifyAudit(): AuditVerification;
}
