import { OAUTH_GRANT_COLUMNS as COLUMNS, newOAuthGrant, oauthGrantValues, toOAuthGrant, type OAuthGrantRow } from '../records.js';
import type { OAuthGrantRecord } from '../relay-store.js';
import type { PgContext } from './context.js';

/** The `oauth_grants` table: what an org admin approved for a client. */
export class PgOAuthGrants {
  constructor(private readonly c: PgContext) {}

  async create(input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>): Promise<OAuthGrantRecord> {
    const g = newOAuthGrant(input, this.c.now());
    await this.c.pool.query(`INSERT INTO oauth_grants (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, oauthGrantValues(g));
    return g;
  }

  async get(id: string): Promise<OAuthGrantRecord | undefined> {
    const r = await this.c.pool.query<OAuthGrantRow>(`SELECT ${COLUMNS} FROM oauth_grants WHERE id = $1`, [id]);
    return r.rows[0] && toOAuthGrant(r.rows[0]);
  }

  async list(orgId?: string): Promise<OAuthGrantRecord[]> {
    const r = orgId === undefined
      ? await this.c.pool.query<OAuthGrantRow>(`SELECT ${COLUMNS} FROM oauth_grants ORDER BY created_at, id`)
      : await this.c.pool.query<OAuthGrantRow>(`SELECT ${COLUMNS} FROM oauth_grants WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
    return r.rows.map(toOAuthGrant);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return (await this.c.pool.query('UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])).rowCount === 1;
  }
}
