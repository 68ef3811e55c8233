import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Migration } from '@sluice/node-kit';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditRow, AuditVerification } from '../audit/audit-chain.js';
import { checkTokenInput, requireOrg, type TokenInput } from './new-records.js';
import { PgAdminAccounts } from './postgres/admin-accounts.js';
import { PgAuditTable } from './postgres/audit-table.js';
import { PgBus } from './postgres/bus.js';
import { replicaApplicationName, type PgContext } from './postgres/context.js';
import { PgInstances } from './postgres/instances.js';
import { PG_MIGRATIONS } from './postgres/migrations.js';
import { PgOAuthGrants } from './postgres/oauth-grants.js';
import { PgOAuthRecords } from './postgres/oauth-records.js';
import { PgOAuthSubjects } from './postgres/oauth-subjects.js';
import { createPool, migratePostgres } from './postgres/open.js';
import { PgOrgs } from './postgres/orgs.js';
import { PgDispatchAnswers, PgIdOwners } from './postgres/routing-tables.js';
import { PgTokens } from './postgres/tokens.js';
import type { AdminAccountRecord, AdminSessionRecord, AuditInput, DispatchAnswerRecord, DispatchClaim, InstanceRecord, InstanceState, OAuthGrantRecord, OAuthRecord, OrgRecord, RelayStore, RevokedOAuthSubject, TokenRecord } from './relay-store.js';

export { isPostgresUrl, refusePasswordInUrl } from './postgres/open.js';
export { PG_MIGRATIONS } from './postgres/migrations.js';

/** Sent by every store that revokes planner credentials; every replica drops its token cache on it. */
export const CREDENTIALS_CHANNEL = 'sluice_credentials_revoked';

export interface PostgresRelayStoreOptions {
  now?: () => number;
  onAuditError?: (err: unknown) => void;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  migrations?: readonly Migration[];
}

const rethrow = (err: unknown): void => {
  setImmediate(() => {
    throw err;
  });
};

/**
 * The PostgreSQL relay store: several relay processes (replicas) share it. Each store has a replica id and a
 * LISTEN connection (`bus`) the replicas signal each other through.
 */
export class PostgresRelayStore implements RelayStore {
  /** Lower-case hex: it names this replica's NOTIFY channel. */
  readonly replicaId = `rep_${randomBytes(8).toString('hex')}`;
  readonly bus: PgBus;
  private readonly orgs: PgOrgs;
  private readonly tokens: PgTokens;
  private readonly instances: PgInstances;
  private readonly owners: PgIdOwners;
  private readonly answers: PgDispatchAnswers;
  private readonly subjects: PgOAuthSubjects;
  private readonly oauthRecords: PgOAuthRecords;
  private readonly oauthGrants: PgOAuthGrants;
  private readonly admins: PgAdminAccounts;
  private readonly auditTable: PgAuditTable;
  private readonly auditLog: AuditLog;
  private readonly revokedListeners = new Set<() => void>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly pool: pg.Pool,
    url: string,
    opts: PostgresRelayStoreOptions,
  ) {
    const now = opts.now ?? Date.now;
    const c: PgContext = { pool, now };
    this.orgs = new PgOrgs(c);
    this.tokens = new PgTokens(c);
    this.instances = new PgInstances(c);
    this.owners = new PgIdOwners(c);
    this.answers = new PgDispatchAnswers(c, this.replicaId);
    this.subjects = new PgOAuthSubjects(c);
    this.oauthRecords = new PgOAuthRecords(c);
    this.oauthGrants = new PgOAuthGrants(c);
    this.admins = new PgAdminAccounts(c);
    this.auditTable = new PgAuditTable(c);
    const onError = opts.onAuditError ?? rethrow;
    this.auditLog = new AuditLog(this.auditTable, now, onError);
    this.bus = new PgBus(url, replicaApplicationName(this.replicaId), pool, () => {});
  }

  /** Connect, migrate (refusing a newer schema) and start listening. No password in `url`: see refusePasswordInUrl. */
  static async open(url: string, opts: PostgresRelayStoreOptions = {}): Promise<PostgresRelayStore> {
    const pool = createPool(url, 'sluice-relay', opts.poolSize ?? 10);
    try {
      await migratePostgres(pool, opts.migrations ?? PG_MIGRATIONS);
      const store = new PostgresRelayStore(pool, url, opts);
      await store.bus.on(CREDENTIALS_CHANNEL, () => store.credentialsRevokedElsewhere());
      await store.bus.start();
      return store;
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  /** Called when any replica (or the CLI) revoked planner credentials. */
  onCredentialsRevoked(listener: () => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      try {
        await this.auditLog.flush();
      } finally {
        await this.bus.close();
        await this.pool.end();
      }
    })());
  }

  createOrg(name: string): Promise<OrgRecord> {
    return this.orgs.create(name);
  }

  getOrg(id: string): Promise<OrgRecord | undefined> {
    return this.orgs.get(id);
  }

  listOrgs(): Promise<OrgRecord[]> {
    return this.orgs.list();
  }

  async createToken(input: TokenInput): Promise<{ record: TokenRecord; secret: string }> {
    await checkTokenInput(input, { org: (id) => this.orgs.get(id), instance: (id) => this.instances.get(id) });
    return this.tokens.create(input);
  }

  findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    return this.tokens.findByHash(hash);
  }

  listTokens(orgId?: string): Promise<TokenRecord[]> {
    return this.tokens.list(orgId);
  }

  async revokeToken(id: string): Promise<boolean> {
    const done = await this.tokens.revoke(id);
    await this.bus.notify(CREDENTIALS_CHANNEL, '');
    return done;
  }

  async revokeAllTokens(orgId: string): Promise<number> {
    const n = await this.tokens.revokeAll(orgId);
    await this.bus.notify(CREDENTIALS_CHANNEL, '');
    return n;
  }

  touchToken(id: string, at: number): Promise<void> {
    return this.tokens.touch(id, at);
  }

  async createEnrollmentToken(orgId: string, ttlMs: number): Promise<{ id: string; secret: string; expiresAt: number }> {
    await requireOrg((id) => this.orgs.get(id), orgId);
    return this.instances.createEnrollmentToken(orgId, ttlMs);
  }

  enroll(hash: string, input: { name: string; publicKey: string }): Promise<InstanceRecord | undefined> {
    return this.instances.enroll(hash, input);
  }

  getInstance(id: string): Promise<InstanceRecord | undefined> {
    return this.instances.get(id);
  }

  listInstances(orgId?: string): Promise<InstanceRecord[]> {
    return this.instances.list(orgId);
  }

  setInstanceState(id: string, state: InstanceState): Promise<InstanceRecord | undefined> {
    return this.instances.setState(id, state);
  }

  rotateInstanceKey(id: string, from: string, to: string): Promise<boolean> {
    return this.instances.rotateKey(id, from, to);
  }

  touchInstance(id: string, at: number): Promise<void> {
    return this.instances.touch(id, at);
  }

  recordOwner(orgId: string, id: string, instanceId: string): Promise<void> {
    return this.owners.record(orgId, id, instanceId);
  }

  getOwner(orgId: string, id: string): Promise<string | undefined> {
    return this.owners.get(orgId, id);
  }

  claimDispatch(orgId: string, runId: string, key: string, inputHash: string, opts: { ttlMs: number; staleMs: number }): Promise<true | DispatchClaim> {
    return this.answers.claim(orgId, runId, key, inputHash, opts);
  }

  releaseDispatch(orgId: string, runId: string, key: string, inputHash: string): Promise<void> {
    return this.answers.release(orgId, runId, key, inputHash);
  }

  getDispatchAnswer(orgId: string, runId: string, key: string, ttlMs: number): Promise<DispatchAnswerRecord | undefined> {
    return this.answers.get(orgId, runId, key, ttlMs);
  }

  putDispatchAnswer(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): Promise<void> {
    return this.answers.put(orgId, runId, key, record, ttlMs);
  }

  async revokeOAuthSubject(issuer: string, subject: string, by: string): Promise<boolean> {
    const done = await this.subjects.revoke(issuer, subject, by);
    await this.bus.notify(CREDENTIALS_CHANNEL, '');
    return done;
  }

  restoreOAuthSubject(issuer: string, subject: string): Promise<boolean> {
    return this.subjects.restore(issuer, subject);
  }

  isOAuthSubjectRevoked(issuer: string, subject: string): Promise<boolean> {
    return this.subjects.isRevoked(issuer, subject);
  }

  listRevokedOAuthSubjects(): Promise<RevokedOAuthSubject[]> {
    return this.subjects.list();
  }

  async appendAudit(entry: AuditInput): Promise<void> {
    this.auditLog.append(entry);
  }

  putOAuthRecord(record: Omit<OAuthRecord, 'consumedAt'>): Promise<void> {
    return this.oauthRecords.put(record);
  }

  getOAuthRecord(model: string, idHash: string): Promise<OAuthRecord | undefined> {
    return this.oauthRecords.get(model, idHash);
  }

  getOAuthRecordByUid(model: string, uidHash: string): Promise<OAuthRecord | undefined> {
    return this.oauthRecords.getByUid(model, uidHash);
  }

  consumeOAuthRecord(model: string, idHash: string, at: number): Promise<boolean> {
    return this.oauthRecords.consume(model, idHash, at);
  }

  deleteOAuthRecord(model: string, idHash: string): Promise<void> {
    return this.oauthRecords.delete(model, idHash);
  }

  deleteOAuthRecordsOfGrant(grantId: string): Promise<number> {
    return this.oauthRecords.deleteOfGrant(grantId);
  }

  listOAuthRecords(model: string): Promise<OAuthRecord[]> {
    return this.oauthRecords.list(model);
  }

  setOAuthRecordExpiry(model: string, idHash: string, expiresAt: number | null): Promise<boolean> {
    return this.oauthRecords.setExpiry(model, idHash, expiresAt);
  }

  deleteExpiredOAuthRecords(before: number): Promise<number> {
    return this.oauthRecords.deleteExpired(before);
  }

  async createOAuthGrant(input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>): Promise<OAuthGrantRecord> {
    await checkTokenInput({ orgId: input.orgId, name: input.clientName, scopes: input.scopes, instanceAllowlist: input.instanceAllowlist }, { org: (id) => this.orgs.get(id), instance: (id) => this.instances.get(id) });
    return this.oauthGrants.create(input);
  }

  getOAuthGrant(id: string): Promise<OAuthGrantRecord | undefined> {
    return this.oauthGrants.get(id);
  }

  listOAuthGrants(orgId?: string): Promise<OAuthGrantRecord[]> {
    return this.oauthGrants.list(orgId);
  }

  /** Every replica reads the grant on each call (no cache), so the revocation holds everywhere at the next one. */
  async revokeOAuthGrant(id: string, at: number): Promise<boolean> {
    const done = await this.oauthGrants.revoke(id, at);
    if (done) await this.bus.notify(CREDENTIALS_CHANNEL, '');
    return done;
  }

  async createAdminAccount(input: Omit<AdminAccountRecord, 'id' | 'createdAt'>): Promise<AdminAccountRecord> {
    for (const id of input.orgIds) await requireOrg((o) => this.orgs.get(o), id);
    return this.admins.create(input);
  }

  findAdminAccount(name: string): Promise<AdminAccountRecord | undefined> {
    return this.admins.find(name);
  }

  getAdminAccount(id: string): Promise<AdminAccountRecord | undefined> {
    return this.admins.get(id);
  }

  listAdminAccounts(): Promise<AdminAccountRecord[]> {
    return this.admins.list();
  }

  createAdminSession(record: AdminSessionRecord): Promise<void> {
    return this.admins.createSession(record);
  }

  findAdminSession(hash: string, now: number): Promise<AdminSessionRecord | undefined> {
    return this.admins.findSession(hash, now);
  }

  deleteAdminSession(hash: string): Promise<void> {
    return this.admins.deleteSession(hash);
  }

  flushAudit(): Promise<void> {
    return this.auditLog.flush();
  }

  async listAudit(orgId: string, opts: { after?: number; limit: number }): Promise<AuditRow[]> {
    await this.auditLog.flush();
    return this.auditTable.list(orgId, opts);
  }

  async verifyAudit(): Promise<AuditVerification> {
    await this.auditLog.flush();
    return this.auditTable.verify();
  }

  private credentialsRevokedElsewhere(): void {
    this.tokens.cache.clear();
    for (const l of this.revokedListeners) l();
  }
}
