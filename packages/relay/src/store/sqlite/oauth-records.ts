import { OAUTH_RECORD_COLUMNS as COLUMNS, toOAuthRecord as toRecord, type OAuthRecordRow as RecordRow } from '../records.js';
import type { OAuthRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `oauth_records` table: the built-in authorization server's objects, by the hash of their id. */
export class SqliteOAuthRecords {
  constructor(private readonly c: SqliteContext) {}

  put(r: Omit<OAuthRecord, 'consumedAt'>): void {
    this.c.stmts
      .get(
        `INSERT INTO oauth_records (model, id_hash, payload, grant_id, uid_hash, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid_hash = excluded.uid_hash, expires_at = excluded.expires_at`,
      )
      .run(r.model, r.idHash, JSON.stringify(r.payload), r.grantId, r.uidHash, r.expiresAt);
  }

  get(model: string, idHash: string): OAuthRecord | undefined {
    const r = this.c.stmts.get(`SELECT ${COLUMNS} FROM oauth_records WHERE model = ? AND id_hash = ?`).get(model, idHash) as RecordRow | undefined;
    return r && toRecord(r);
  }

  getByUid(model: string, uidHash: string): OAuthRecord | undefined {
    const r = this.c.stmts.get(`SELECT ${COLUMNS} FROM oauth_records WHERE model = ? AND uid_hash = ?`).get(model, uidHash) as RecordRow | undefined;
    return r && toRecord(r);
  }

  consume(model: string, idHash: string, at: number): boolean {
    return this.c.stmts.get('UPDATE oauth_records SET consumed_at = ? WHERE model = ? AND id_hash = ? AND consumed_at IS NULL').run(at, model, idHash).changes === 1;
  }

  delete(model: string, idHash: string): void {
    this.c.stmts.get('DELETE FROM oauth_records WHERE model = ? AND id_hash = ?').run(model, idHash);
  }

  deleteOfGrant(grantId: string): number {
    return this.c.stmts.get('DELETE FROM oauth_records WHERE grant_id = ?').run(grantId).changes;
  }

  list(model: string): OAuthRecord[] {
    const rows = this.c.stmts.get(`SELECT ${COLUMNS} FROM oauth_records WHERE model = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY rowid`).all(model, this.c.now()) as RecordRow[];
    return rows.map(toRecord);
  }

  setExpiry(model: string, idHash: string, expiresAt: number | null): boolean {
    return this.c.stmts.get('UPDATE oauth_records SET expires_at = ? WHERE model = ? AND id_hash = ?').run(expiresAt, model, idHash).changes === 1;
  }

  deleteExpired(before: number): number {
    return this.c.stmts.get('DELETE FROM oauth_records WHERE expires_at IS NOT NULL AND expires_at < ?').run(before).changes;
  }
}
