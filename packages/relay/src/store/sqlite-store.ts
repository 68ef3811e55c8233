import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { newId, SluiceError } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';
import { auditRowHash, GENESIS_HASH, verifyAuditRows } from '../audit/audit-chain.js';
import type { AuditRow, AuditVerification } from '../audit/audit-chain.js';
import { generateSecret, hashSecret } from '../tokens/token-format.js';
import { ORG_WIDE_SCOPES } from '../auth/principal.js';
import { MIGRATIONS } from './migrations.js';
import type { Migration } from './migrations.js';
import type { AuditInput, DispatchAnswerRecord, InstanceRecord, InstanceState, OrgRecord, RelayStore, RevokedOAuthSubject, TokenRecord } from './relay-store.js';

/** Thrown when the database was written by newer code than this build. */
export class StoreTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`The relay database is at schema version ${found}, newer than this build supports (${supported}). Upgrade sluice-relay.`);
    this.name = 'StoreTooNewError';
  }
}

const rnd = (n: number): Uint8Array => randomBytes(n);

/**
 * Name the real cause when the database cannot be created: a recursive mkdir on a read-only file system reports
 * ENOENT, which would send the operator looking for a missing folder.
 */
function unwritableStore(file: string, err: unknown): unknown {
  let dir = dirname(file);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let cause = (err as NodeJS.ErrnoException).code;
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    cause = (e as NodeJS.ErrnoException).code ?? cause;
  }
  if (cause === 'EROFS') return new SluiceError('STORAGE_ERROR', `cannot create the relay database ${file}: ${dir} is on a read-only file system`);
  if (cause === 'EACCES' || cause === 'EPERM') return new SluiceError('STORAGE_ERROR', `cannot create the relay database ${file}: permission denied on ${dir}`);
  return err;
}

/** How long a token row may be served from memory; see `findTokenByHash`. */
export const TOKEN_CACHE_MS = 2000;

/** Open (creating if needed) a relay SQLite database in WAL mode and apply pending migrations. */
export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Database.Database {
  const fresh = file === ':memory:' || !existsSync(file);
  let db: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file);
  } catch (err) {
    throw unwritableStore(file, err);
  }
  if (fresh && file !== ':memory:') chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    db.close();
    throw new StoreTooNewError(current, latest);
  }
  const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  if (pending.length > 0) {
    db.transaction(() => {
      for (const m of pending) {
        db.exec(m.up);
        db.pragma(`user_version = ${m.version}`);
      }
    }).immediate();
  }
  return db;
}

interface TokenRow {
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
interface InstanceRow {
  id: string;
  org_id: string;
  name: string;
  public_key: string | null;
  state: InstanceState;
  last_seen_at: number | null;
  created_at: number;
}
interface AuditDbRow {
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

const toToken = (r: TokenRow): TokenRecord => ({
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
const toInstance = (r: InstanceRow): InstanceRecord => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  publicKey: r.public_key,
  state: r.state,
  lastSeenAt: r.last_seen_at,
  createdAt: r.created_at,
});
const toAudit = (r: AuditDbRow): AuditRow => ({
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

/** The SQLite relay store. `now` is injectable so tests can expire tokens without sleeping. */
export class SqliteRelayStore implements RelayStore {
  readonly db: Database.Database;
  private readonly now: () => number;

  constructor(file: string, opts: { now?: () => number } = {}) {
    this.db = openDatabase(file);
    this.now = opts.now ?? Date.now;
  }

  close(): void {
    if (!this.db.open) return;
    this.flushAudit();
    this.db.close();
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Prepared once per SQL text: preparing costs more than most of these queries. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  createOrg(name: string): OrgRecord {
    const org = { id: newId('org', rnd), name, createdAt: this.now() };
    try {
      this.stmt('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)').run(org.id, org.name, org.createdAt);
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw new SluiceError('BAD_REQUEST', `An org named "${name}" already exists.`);
      throw err;
    }
    return org;
  }

  getOrg(id: string): OrgRecord | undefined {
    const r = this.stmt('SELECT id, name, created_at FROM orgs WHERE id = ?').get(id) as { id: string; name: string; created_at: number } | undefined;
    return r && { id: r.id, name: r.name, createdAt: r.created_at };
  }

  listOrgs(): OrgRecord[] {
    const rows = this.stmt('SELECT id, name, created_at FROM orgs ORDER BY created_at, id').all() as { id: string; name: string; created_at: number }[];
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }

  createToken(input: { orgId: string; name: string; scopes: Scope[]; instanceAllowlist?: string[] | null; expiresAt?: number | null }): {
    record: TokenRecord;
    secret: string;
  } {
    if (!this.getOrg(input.orgId)) throw new SluiceError('NOT_FOUND', 'No such org.');
    const orgWide = input.scopes.filter((s) => (ORG_WIDE_SCOPES as readonly string[]).includes(s));
    if (input.instanceAllowlist && orgWide.length > 0) {
      throw new SluiceError('INVALID_INPUT', `A token limited to some instances cannot have ${orgWide.join(', ')}: it covers the whole org.`);
    }
    for (const id of input.instanceAllowlist ?? []) {
      if (this.getInstance(id)?.orgId !== input.orgId) throw new SluiceError('INSTANCE_NOT_FOUND', `No instance ${id} in this org.`);
    }
    const secret = generateSecret('planner');
    const record: TokenRecord = {
      id: newId('token', rnd),
      orgId: input.orgId,
      name: input.name,
      hash: hashSecret(secret),
      scopes: [...new Set(input.scopes)],
      instanceAllowlist: input.instanceAllowlist ?? null,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      createdAt: this.now(),
    };
    this.stmt(
        'INSERT INTO tokens (id, org_id, name, hash, scopes, instance_allowlist, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.orgId,
        record.name,
        record.hash,
        JSON.stringify(record.scopes),
        record.instanceAllowlist === null ? null : JSON.stringify(record.instanceAllowlist),
        record.expiresAt,
        record.createdAt,
      );
    return { record, secret };
  }

  /**
   * Token look-ups are cached for TOKEN_CACHE_MS: the look-up was the largest single cost of a planner call.
   * Revocations through this store clear the cache at once; one made by another process (the CLI against the
   * same file) takes effect within TOKEN_CACHE_MS.
   */
  private readonly tokenCache = new Map<string, { record: TokenRecord | undefined; at: number }>();

  findTokenByHash(hash: string): TokenRecord | undefined {
    const now = Date.now();
    const hit = this.tokenCache.get(hash);
    if (hit && now - hit.at < TOKEN_CACHE_MS) return hit.record;
    const r = this.stmt('SELECT * FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    const record = r && toToken(r);
    // Only known tokens are cached, so random garbage cannot fill the map.
    if (record) {
      if (this.tokenCache.size >= 10_000) this.tokenCache.clear();
      this.tokenCache.set(hash, { record, at: now });
    }
    return record;
  }

  listTokens(orgId?: string): TokenRecord[] {
    const rows = (
      orgId === undefined
        ? this.stmt('SELECT * FROM tokens ORDER BY created_at, id').all()
        : this.stmt('SELECT * FROM tokens WHERE org_id = ? ORDER BY created_at, id').all(orgId)
    ) as TokenRow[];
    return rows.map(toToken);
  }

  revokeToken(id: string): boolean {
    this.tokenCache.clear();
    return this.stmt('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.now(), id).changes === 1;
  }

  revokeAllTokens(orgId: string): number {
    this.tokenCache.clear();
    return this.stmt('UPDATE tokens SET revoked_at = ? WHERE org_id = ? AND revoked_at IS NULL').run(this.now(), orgId).changes;
  }

  touchToken(id: string, at: number): void {
    this.stmt('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  createEnrollmentToken(orgId: string, ttlMs: number): { id: string; secret: string; expiresAt: number } {
    if (!this.getOrg(orgId)) throw new SluiceError('NOT_FOUND', 'No such org.');
    const secret = generateSecret('enrollment');
    const id = newId('token', rnd);
    const createdAt = this.now();
    const expiresAt = createdAt + ttlMs;
    this.stmt('INSERT INTO enrollment_tokens (id, org_id, hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, orgId, hashSecret(secret), expiresAt, createdAt);
    return { id, secret, expiresAt };
  }

  enroll(hash: string, input: { name: string; publicKey: string }): InstanceRecord | undefined {
    return this.db
      .transaction((): InstanceRecord | undefined => {
        const now = this.now();
        const row = this.stmt('SELECT id, org_id FROM enrollment_tokens WHERE hash = ? AND used_at IS NULL AND expires_at > ?')
          .get(hash, now) as { id: string; org_id: string } | undefined;
        if (!row) return undefined;
        const instance: InstanceRecord = {
          id: newId('instance', rnd),
          orgId: row.org_id,
          name: input.name,
          publicKey: input.publicKey,
          state: 'active',
          lastSeenAt: null,
          createdAt: now,
        };
        this.stmt('UPDATE enrollment_tokens SET used_at = ?, instance_id = ? WHERE id = ?').run(now, instance.id, row.id);
        this.stmt('INSERT INTO instances (id, org_id, name, public_key, state, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(instance.id, instance.orgId, instance.name, instance.publicKey, instance.state, instance.createdAt);
        return instance;
      })
      .immediate();
  }

  getInstance(id: string): InstanceRecord | undefined {
    const r = this.stmt('SELECT * FROM instances WHERE id = ?').get(id) as InstanceRow | undefined;
    return r && toInstance(r);
  }

  listInstances(orgId?: string): InstanceRecord[] {
    const rows = (
      orgId === undefined
        ? this.stmt('SELECT * FROM instances ORDER BY created_at, id').all()
        : this.stmt('SELECT * FROM instances WHERE org_id = ? ORDER BY created_at, id').all(orgId)
    ) as InstanceRow[];
    return rows.map(toInstance);
  }

  setInstanceState(id: string, state: InstanceState): InstanceRecord | undefined {
    const current = this.getInstance(id);
    if (!current) return undefined;
    // A revoked instance stays revoked: its key is gone, so only a new enrollment brings it back.
    if (current.state === 'revoked') return current;
    if (state === 'revoked') this.stmt("UPDATE instances SET state = 'revoked', public_key = NULL WHERE id = ?").run(id);
    else this.stmt('UPDATE instances SET state = ? WHERE id = ?').run(state, id);
    return this.getInstance(id);
  }

  rotateInstanceKey(id: string, from: string, to: string): boolean {
    return this.stmt("UPDATE instances SET public_key = ? WHERE id = ? AND public_key = ? AND state = 'active'").run(to, id, from).changes === 1;
  }

  touchInstance(id: string, at: number): void {
    this.stmt('UPDATE instances SET last_seen_at = ? WHERE id = ?').run(at, id);
  }

  /** Owners never change once recorded, so a bounded in-memory copy is always right and saves a write per call. */
  private readonly owners = new Map<string, string>();

  recordOwner(orgId: string, id: string, instanceId: string): void {
    const k = `${orgId}/${id}`;
    if (this.owners.has(k)) return;
    this.stmt('INSERT OR IGNORE INTO id_owners (org_id, id, instance_id, created_at) VALUES (?, ?, ?, ?)').run(orgId, id, instanceId, this.now());
    const stored = this.getOwner(orgId, id);
    if (stored !== undefined) this.rememberOwner(k, stored);
  }

  getOwner(orgId: string, id: string): string | undefined {
    const k = `${orgId}/${id}`;
    const cached = this.owners.get(k);
    if (cached !== undefined) return cached;
    const r = this.stmt('SELECT instance_id FROM id_owners WHERE org_id = ? AND id = ?').get(orgId, id) as { instance_id: string } | undefined;
    if (r) this.rememberOwner(k, r.instance_id);
    return r?.instance_id;
  }

  private rememberOwner(k: string, instanceId: string): void {
    if (this.owners.size >= 100_000) this.owners.clear();
    this.owners.set(k, instanceId);
  }

  getDispatchAnswer(orgId: string, runId: string, key: string, ttlMs: number): DispatchAnswerRecord | undefined {
    const r = this.stmt('SELECT input_hash, step_id FROM dispatch_answers WHERE org_id = ? AND run_id = ? AND idem_key = ? AND created_at > ?').get(
      orgId,
      runId,
      key,
      this.now() - ttlMs,
    ) as { input_hash: string; step_id: string } | undefined;
    return r && { inputHash: r.input_hash, stepId: r.step_id };
  }

  putDispatchAnswer(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): void {
    const now = this.now();
    this.stmt('DELETE FROM dispatch_answers WHERE created_at <= ?').run(now - ttlMs);
    this.stmt('INSERT OR REPLACE INTO dispatch_answers (org_id, run_id, idem_key, input_hash, step_id, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(orgId, runId, key, record.inputHash, record.stepId, now);
  }

  revokeOAuthSubject(issuer: string, subject: string, by: string): boolean {
    return this.stmt('INSERT OR IGNORE INTO oauth_revoked_subjects (issuer, subject, revoked_at, revoked_by) VALUES (?, ?, ?, ?)').run(issuer, subject, this.now(), by).changes === 1;
  }

  restoreOAuthSubject(issuer: string, subject: string): boolean {
    return this.stmt('DELETE FROM oauth_revoked_subjects WHERE issuer = ? AND subject = ?').run(issuer, subject).changes === 1;
  }

  isOAuthSubjectRevoked(issuer: string, subject: string): boolean {
    return this.stmt('SELECT 1 FROM oauth_revoked_subjects WHERE issuer = ? AND subject = ?').get(issuer, subject) !== undefined;
  }

  listRevokedOAuthSubjects(): RevokedOAuthSubject[] {
    const rows = this.stmt('SELECT issuer, subject, revoked_at, revoked_by FROM oauth_revoked_subjects ORDER BY revoked_at, issuer, subject').all() as {
      issuer: string;
      subject: string;
      revoked_at: number;
      revoked_by: string;
    }[];
    return rows.map((r) => ({ issuer: r.issuer, subject: r.subject, revokedAt: r.revoked_at, revokedBy: r.revoked_by }));
  }

  /**
   * Queue an audit row; rows queued in one event-loop turn are chained and committed together right after it
   * (group commit), so every planner call is audited without one disk commit per request.
   */
  appendAudit(entry: AuditInput): void {
    this.auditQueue.push({ ...entry, at: this.now() });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushAudit());
    }
  }

  /** Commit queued audit rows now. Readers of the audit table call this first. */
  flushAudit(): void {
    this.flushScheduled = false;
    if (this.auditQueue.length === 0 || !this.db.open) return;
    const batch = this.auditQueue;
    this.auditQueue = [];
    this.appendAuditTx ??= this.db.transaction((rows: (AuditInput & { at: number })[]) => {
      // Read the head once per batch (inside the write lock, so another writer cannot interleave).
      const last = this.stmt('SELECT hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
      const counter = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined;
      let head = { seq: counter?.seq ?? 0, hash: last?.hash ?? GENESIS_HASH };
      for (const r of rows) head = this.appendAuditRow(r, head);
    });
    try {
      this.appendAuditTx.immediate(batch);
    } catch (err) {
      // Keep the rows and try again: an audit row is never dropped silently.
      this.auditQueue = [...batch, ...this.auditQueue];
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setTimeout(() => this.flushAudit(), 1000).unref();
      }
      throw err;
    }
  }

  private auditQueue: (AuditInput & { at: number })[] = [];
  private flushScheduled = false;
  /** Built once: better-sqlite3 prepares BEGIN/COMMIT for every transaction function it creates. */
  private appendAuditTx: Database.Transaction<(rows: (AuditInput & { at: number })[]) => void> | undefined;

  private appendAuditRow(entry: AuditInput & { at: number }, head: { seq: number; hash: string }): AuditRow {
    const base: Omit<AuditRow, 'hash'> = {
      seq: head.seq + 1,
      at: entry.at,
      orgId: entry.orgId,
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome,
      ip: entry.ip ?? null,
      detail: JSON.stringify(entry.detail ?? {}),
      prevHash: head.hash,
    };
    const row: AuditRow = { ...base, hash: auditRowHash(base) };
    this.stmt('INSERT INTO audit (seq, at, org_id, actor, action, target, outcome, ip, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      row.seq,
      row.at,
      row.orgId,
      row.actor,
      row.action,
      row.target,
      row.outcome,
      row.ip,
      row.detail,
      row.prevHash,
      row.hash,
    );
    return row;
  }

  listAudit(orgId: string, opts: { after?: number; limit: number }): AuditRow[] {
    this.flushAudit();
    const rows = this.stmt('SELECT * FROM audit WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(orgId, opts.after ?? 0, opts.limit) as AuditDbRow[];
    return rows.map(toAudit);
  }

  verifyAudit(): AuditVerification {
    this.flushAudit();
    const counter = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined;
    const iter = this.stmt('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditDbRow>;
    const mapped = (function* () {
      for (const r of iter) yield toAudit(r);
    })();
    return verifyAuditRows(mapped, counter?.seq ?? 0);
  }
}
