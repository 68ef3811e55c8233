import type { Scope } from '@sluice/shared-protocol';
import type { OAuthGrantRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

interface GrantRow {
  id: string;
  org_id: string;
  client_id: string;
  client_name: string;
  scopes: string;
  instance_allowlist: string | null;
  approved_by: string;
  created_at: number;
  revoked_at: number | null;
}

const COLUMNS = 'id, org_id, client_id, client_name, scopes, instance_allowlist, approved_by, created_at, revoked_at';
const toGrant = (r: GrantRow): OAuthGrantRecord => ({
  id: r.id,
  orgId: r.org_id,
  clientId: r.client_id,
  clientName: r.client_name,
  scopes: JSON.parse(r.scopes) as Scope[],
  instanceAllowlist: r.instance_allowlist === null ? null : (JSON.parse(r.instance_allowlist) as string[]),
  approvedBy: r.approved_by,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** The `oauth_grants` table: what an org admin approved for a client. */
export class SqliteOAuthGrants {
  constructor(private readonly c: SqliteContext) {}

  create(input: Omit<OAuthGrantRecord, 'createdAt' | 'revokedAt'>): OAuthGrantRecord {
    const g: OAuthGrantRecord = { ...input, scopes: [...new Set(input.scopes)].sort(), createdAt: this.c.now(), revokedAt: null };
    this.c.stmts
      .get(`INSERT INTO oauth_grants (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`)
      .run(g.id, g.orgId, g.clientId, g.clientName, JSON.stringify(g.scopes), g.instanceAllowlist === null ? null : JSON.stringify(g.instanceAllowlist), g.approvedBy, g.createdAt);
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
