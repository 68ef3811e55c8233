import { OAUTH_GRANT_COLUMNS as COLUMNS, newOAuthGrant, oauthGrantValues, toOAuthGrant as toGrant, type OAuthGrantRow as GrantRow } from '../records.js';
import type { OAuthGrantRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `oauth_grants` table: what an org admin approved for a client. */
export class SqliteOAuthGrants {
  constructor(private readonly c: SqliteContext) {}

  create(input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>): OAuthGrantRecord {
    const g = newOAuthGrant(input, this.c.now());
    this.c.stmts.get(`INSERT INTO oauth_grants (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...oauthGrantValues(g));
    return g;
  }

  get(id: string): OAuthGrantRecord | undefined {
    const r = this.c.stmts.get(`SELECT ${COLUMNS} FROM oauth_grants WHERE id = ?`).get(id) as GrantRow | undefined;
    return r && toGrant(r);
  }

  list(orgId?: string): OAuthGrantRecord[] {
    const rows = (orgId === undefined
      ? this.c.stmts.get(`SELECT ${COLUMNS} FROM oauth_grants ORDER BY created_at, id`).all()
      : this.c.stmts.get(`SELECT ${COLUMNS} FROM oauth_grants WHERE org_id = ? ORDER BY created_at, id`).all(orgId)) as GrantRow[];
    return rows.map(toGrant);
  }

  revoke(id: string, at: number): boolean {
    return this.c.stmts.get('UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes === 1;
  }
}
