import { toSubject, type SubjectRow } from '../records.js';
import type { RevokedOAuthSubject } from '../relay-store.js';
import type { PgContext } from './context.js';

/** The `oauth_revoked_subjects` table; never cached, so a revocation holds on every replica at the next call. */
export class PgOAuthSubjects {
  constructor(private readonly c: PgContext) {}

  async revoke(issuer: string, subject: string, by: string): Promise<boolean> {
    const r = await this.c.pool.query('INSERT INTO oauth_revoked_subjects (issuer, subject, revoked_at, revoked_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [issuer, subject, this.c.now(), by]);
    return r.rowCount === 1;
  }

  async restore(issuer: string, subject: string): Promise<boolean> {
    return (await this.c.pool.query('DELETE FROM oauth_revoked_subjects WHERE issuer = $1 AND subject = $2', [issuer, subject])).rowCount === 1;
  }

  async isRevoked(issuer: string, subject: string): Promise<boolean> {
    return ((await this.c.pool.query('SELECT 1 FROM oauth_revoked_subjects WHERE issuer = $1 AND subject = $2', [issuer, subject])).rowCount ?? 0) > 0;
  }

  async list(): Promise<RevokedOAuthSubject[]> {
    const r = await this.c.pool.query<SubjectRow>('SELECT issuer, subject, revoked_at, revoked_by FROM oauth_revoked_subjects ORDER BY revoked_at, issuer, subject');
    return r.rows.map(toSubject);
  }
}
