import type Database from 'better-sqlite3';
import { StatementCache } from '@sluice/node-kit';
import type { Scope } from '@sluice/shared-protocol';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditRow, AuditVerification } from '../audit/audit-chain.js';
import { checkTokenInput, requireOrg } from './new-records.js';
import type { AdminAccountRecord, AdminSessionRecord, AuditInput, DispatchAnswerRecord, DispatchClaim, OAuthGrantRecord, OAuthRecord, InstanceRecord, InstanceState, OrgRecord, RelayStore, RevokedOAuthSubject, TokenRecord } from './relay-store.js';
import { SqliteAdminAccounts } from './sqlite/admin-accounts.js';
import { SqliteAuditTable } from './sqlite/audit-table.js';
import type { SqliteContext } from './sqlite/context.js';
import { SqliteDispatchAnswers } from './sqlite/dispatch-answers.js';
import { SqliteIdOwners } from './sqlite/id-owners.js';
import { SqliteInstances } from './sqlite/instances.js';
import { SqliteOAuthGrants } from './sqlite/oauth-grants.js';
import { SqliteOAuthRecords } from './sqlite/oauth-records.js';
import { SqliteOAuthSubjects } from './sqlite/oauth-subjects.js';
import { openDatabase } from './sqlite/open.js';
import { SqliteOrgs } from './sqlite/orgs.js';
import { SqliteTokens } from './sqlite/tokens.js';

export { openDatabase, StoreTooNewError } from './sqlite/open.js';
export { TOKEN_CACHE_MS } from './token-cache.js';

export interface SqliteRelayStoreOptions {
  /** Injectable so tests can expire tokens without sleeping. */
  now?: () => number;
  /** A background audit commit failed (the rows stay queued and are tried again); by default it is thrown. */
  onAuditError?: (err: unknown) => void;
}

const rethrow = (err: unknown): void => {
  setImmediate(() => {
    throw err;
  });
};

/** The SQLite relay store: one connection, one class per table group, this facade over them. */
export class SqliteRelayStore implements RelayStore {
  readonly db: Database.Database;
  private readonly orgs: SqliteOrgs;
  private readonly tokens: SqliteTokens;
  private readonly instances: SqliteInstances;
  private readonly owners: SqliteIdOwners;
  private readonly answers: SqliteDispatchAnswers;
  private readonly subjects: SqliteOAuthSubjects;
  private readonly oauthRecords: SqliteOAuthRecords;
  private readonly oauthGrants: SqliteOAuthGrants;
  private readonly admins: SqliteAdminAccounts;
  private readonly auditTable: SqliteAuditTable;
  private readonly auditLog: AuditLog;

  constructor(file: string, opts: SqliteRelayStoreOptions = {}) {
    this.db = openDatabase(file);
    const now = opts.now ?? Date.now;
    const c: SqliteContext = { db: this.db, stmts: new StatementCache(this.db), now };
    this.orgs = new SqliteOrgs(c);
    this.tokens = new SqliteTokens(c);
    this.instances = new SqliteInstances(c);
    this.owners = new SqliteIdOwners(c);
    this.answers = new SqliteDispatchAnswers(c);
    this.subjects = new SqliteOAuthSubjects(c);
    this.oauthRecords = new SqliteOAuthRecords(c);
    this.oauthGrants = new SqliteOAuthGrants(c);
    this.admins = new SqliteAdminAccounts(c);
    this.auditTable = new SqliteAuditTable(c);
    this.auditLog = new AuditLog(this.auditTable, now, opts.onAuditError ?? rethrow);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.auditLog.flush();
    this.db.close();
  }

  async createOrg(name: string): Promise<OrgRecord> {
    return this.orgs.create(name);
  }

  async getOrg(id: string): Promise<OrgRecord | undefined> {
    return this.orgs.get(id);
  }

  async listOrgs(): Promise<OrgRecord[]> {
    return this.orgs.list();
  }

  async createToken(input: { orgId: string; name: string; scopes: Scope[]; instanceAllowlist?: string[] | null; expiresAt?: number | null }): Promise<{
    record: TokenRecord;
    secret: string;
  }> {
    await checkTokenInput(input, { org: (id) => this.orgs.get(id), instance: (id) => this.instances.get(id) });
    return this.tokens.create(input);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    return this.tokens.findByHash(hash);
  }

  async listTokens(orgId?: string): Promise<TokenRecord[]> {
    return this.tokens.list(orgId);
  }

  async revokeToken(id: string): Promise<boolean> {
    return this.tokens.revoke(id);
  }

  async revokeAllTokens(orgId: string): Promise<number> {
    return this.tokens.revokeAll(orgId);
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.tokens.touch(id, at);
  }

  async createEnrollmentToken(orgId: string, ttlMs: number): Promise<{ id: string; secret: string; expiresAt: number }> {
    await requireOrg((id) => this.orgs.get(id), orgId);
    return this.instances.createEnrollmentToken(orgId, ttlMs);
  }

  async enroll(hash: string, input: { name: string; publicKey: string }): Promise<InstanceRecord | undefined> {
    return this.instances.enroll(hash, input);
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.instances.get(id);
  }

  async listInstances(orgId?: string): Promise<InstanceRecord[]> {
    return this.instances.list(orgId);
  }

  async setInstanceState(id: string, state: InstanceState): Promise<InstanceRecord | undefined> {
    return this.instances.setState(id, state);
  }

  async rotateInstanceKey(id: string, from: string, to: string): Promise<boolean> {
    return this.instances.rotateKey(id, from, to);
  }

  async touchInstance(id: string, at: number): Promise<void> {
    this.instances.touch(id, at);
  }

  async recordOwner(orgId: string, id: string, instanceId: string): Promise<void> {
    this.owners.record(orgId, id, instanceId);
  }

  async getOwner(orgId: string, id: string): Promise<string | undefined> {
    return this.owners.get(orgId, id);
  }

  async claimDispatch(orgId: string, runId: string, key: string, inputHash: string, opts: { ttlMs: number; staleMs: number }): Promise<true | DispatchClaim> {
    return this.answers.claim(orgId, runId, key, inputHash, opts);
  }

  async releaseDispatch(orgId: string, runId: string, key: string, inputHash: string): Promise<void> {
    this.answers.release(orgId, runId, key, inputHash);
  }

  async getDispatchAnswer(orgId: string, runId: string, key: string, ttlMs: number): Promise<DispatchAnswerRecord | undefined> {
    return this.answers.get(orgId, runId, key, ttlMs);
  }

  async putDispatchAnswer(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): Promise<void> {
    this.answers.put(orgId, runId, key, record, ttlMs);
  }

  async revokeOAuthSubject(issuer: string, subject: string, by: string): Promise<boolean> {
    return this.subjects.revoke(issuer, subject, by);
  }

  async restoreOAuthSubject(issuer: string, subject: string): Promise<boolean> {
    return this.subjects.restore(issuer, subject);
  }

  async isOAuthSubjectRevoked(issuer: string, subject: string): Promise<boolean> {
    return this.subjects.isRevoked(issuer, subject);
  }

  async listRevokedOAuthSubjects(): Promise<RevokedOAuthSubject[]> {
    return this.subjects.list();
  }

  async putOAuthRecord(record: Omit<OAuthRecord, 'consumedAt'>): Promise<void> {
    this.oauthRecords.put(record);
  }

  async getOAuthRecord(model: string, idHash: string): Promise<OAuthRecord | undefined> {
    return this.oauthRecords.get(model, idHash);
  }

  async getOAuthRecordByUid(model: string, uidHash: string): Promise<OAuthRecord | undefined> {
    return this.oauthRecords.getByUid(model, uidHash);
  }

  async consumeOAuthRecord(model: string, idHash: string, at: number): Promise<boolean> {
    return this.oauthRecords.consume(model, idHash, at);
  }

  async deleteOAuthRecord(model: string, idHash: string): Promise<void> {
    this.oauthRecords.delete(model, idHash);
  }

  async deleteOAuthRecordsOfGrant(grantId: string): Promise<number> {
    return this.oauthRecords.deleteOfGrant(grantId);
  }

  async listOAuthRecords(model: string): Promise<OAuthRecord[]> {
    return this.oauthRecords.list(model);
  }

  async setOAuthRecordExpiry(model: string, idHash: string, expiresAt: number | null): Promise<boolean> {
    return this.oauthRecords.setExpiry(model, idHash, expiresAt);
  }

  async deleteExpiredOAuthRecords(before: number): Promise<number> {
    return this.oauthRecords.deleteExpired(before);
  }

  async createOAuthGrant(input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>): Promise<OAuthGrantRecord> {
    await checkTokenInput({ orgId: input.orgId, name: input.clientName, scopes: input.scopes, instanceAllowlist: input.instanceAllowlist }, { org: (id) => this.orgs.get(id), instance: (id) => this.instances.get(id) });
    return this.oauthGrants.create(input);
  }

  async getOAuthGrant(id: string): Promise<OAuthGrantRecord | undefined> {
    return this.oauthGrants.get(id);
  }

  async listOAuthGrants(orgId?: string): Promise<OAuthGrantRecord[]> {
    return this.oauthGrants.list(orgId);
  }

  async revokeOAuthGrant(id: string, at: number): Promise<boolean> {
    return this.oauthGrants.revoke(id, at);
  }

  async createAdminAccount(input: Omit<AdminAccountRecord, 'id' | 'createdAt'>): Promise<AdminAccountRecord> {
    for (const id of input.orgIds) await requireOrg((o) => this.orgs.get(o), id);
    return this.admins.create(input);
  }

  async findAdminAccount(name: string): Promise<AdminAccountRecord | undefined> {
    return this.admins.find(name);
  }

  async getAdminAccount(id: string): Promise<AdminAccountRecord | undefined> {
    return this.admins.get(id);
  }

  async listAdminAccounts(): Promise<AdminAccountRecord[]> {
    return this.admins.list();
  }

  async createAdminSession(record: AdminSessionRecord): Promise<void> {
    this.admins.createSession(record);
  }

  async findAdminSession(hash: string, now: number): Promise<AdminSessionRecord | undefined> {
    return this.admins.findSession(hash, now);
  }

  async deleteAdminSession(hash: string): Promise<void> {
    this.admins.deleteSession(hash);
  }

  async appendAudit(entry: AuditInput): Promise<void> {
    this.auditLog.append(entry);
  }

  async flushAudit(): Promise<void> {
    await this.auditLog.flush();
  }

  async listAudit(orgId: string, opts: { after?: number; limit: number }): Promise<AuditRow[]> {
    await this.auditLog.flush();
    return this.auditTable.list(orgId, opts);
  }

  async verifyAudit(): Promise<AuditVerification> {
    await this.auditLog.flush();
    return this.auditTable.verify();
  }
}
