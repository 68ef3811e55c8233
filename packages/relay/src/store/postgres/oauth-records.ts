import { OAUTH_RECORD_COLUMNS as COLUMNS, toOAuthRecord, type OAuthRecordRow } from '../records.js';
import type { OAuthRecord } from '../relay-store.js';
import type { PgContext } from './context.js';

/** The `oauth_records` table: the built-in authorization server's objects, by the hash of their id. */
export class PgOAuthRecords {
  constructor(private readonly c: PgContext) {}

  async put(r: Omit<OAuthRecord, 'consumedAt'>): Promise<void> {
    await this.c.pool.query(
      `INSERT INTO oauth_records (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL)
       ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid_hash = excluded.uid_hash, expires_at = excluded.expires_at`,
      [r.model, r.idHash, JSON.stringify(r.payload), r.grantId, r.uidHash, r.expiresAt],
    );
  }

  async get(model: string, idHash: string): Promise<OAuthRecord | undefined> {
    const r = await this.c.pool.query<OAuthRecordRow>(`SELECT ${COLUMNS} FROM oauth_records WHERE model = $1 AND id_hash = $2`, [model, idHash]);
    return r.rows[0] && toOAuthRecord(r.rows[0]);
  }

  async getByUid(model: string, uidHash: string): Promise<OAuthRecord | undefined> {
    const r = await this.c.pool.query<OAuthRecordRow>(`SELECT ${COLUMNS} FROM oauth_records WHERE model = $1 AND uid_hash = $2`, [model, uidHash]);
    return r.rows[0] && toOAuthRecord(r.rows[0]);
  }

  /** True for the one caller that consumed it: the row lock makes a second, concurrent consumer lose. */
  async consume(model: string, idHash: string, at: number): Promise<boolean> {
    return (await this.c.pool.query('UPDATE oauth_records SET consumed_at = $1 WHERE model = $2 AND id_hash = $3 AND consumed_at IS NULL', [at, model, idHash])).rowCount === 1;
  }

  async delete(model: string, idHash: string): Promise<void> {
    await this.c.pool.query('DELETE FROM oauth_records WHERE model = $1 AND id_hash = $2', [model, idHash]);
  }

  async deleteOfGrant(grantId: string): Promise<number> {
    return (await this.c.pool.query('DELETE FROM oauth_records WHERE grant_id = $1', [grantId])).rowCount ?? 0;
  }

  async list(model: string): Promise<OAuthRecord[]> {
    const r = await this.c.pool.query<OAuthRecordRow>(`SELECT ${COLUMNS} FROM oauth_records WHERE model = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY seq`, [model, this.c.now()]);
    return r.rows.map(toOAuthRecord);
  }

  async setExpiry(model: string, idHash: string, expiresAt: number | null): Promise<boolean> {
    return (await this.c.pool.query('UPDATE oauth_records SET expires_at = $1 WHERE model = $2 AND id_hash = $3', [expiresAt, model, idHash])).rowCount === 1;
  }

  async deleteExpired(before: number): Promise<number> {
    return (await this.c.pool.query('DELETE FROM oauth_records WHERE expires_at IS NOT NULL AND expires_at < $1', [before])).rowCount ?? 0;
  }
}
