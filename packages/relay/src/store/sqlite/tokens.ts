import { toToken, type TokenRow } from '../records.js';
import { newToken, type TokenInput } from '../new-records.js';
import type { TokenRecord } from '../relay-store.js';
import { TokenCache } from '../token-cache.js';
import type { SqliteContext } from './context.js';

export { TOKEN_CACHE_MS } from '../token-cache.js';

/** The `tokens` table: planner tokens, stored by the hash of their secret only. */
export class SqliteTokens {
  /** Revocations through this store clear it at once; one made by another process (the CLI) within TOKEN_CACHE_MS. */
  private readonly cache = new TokenCache();

  constructor(private readonly c: SqliteContext) {}

  /** Insert a new token; the caller has checked the org, the scopes and the allowlist. */
  create(input: TokenInput): { record: TokenRecord; secret: string } {
    const made = newToken(input, this.c.now());
    const { record } = made;
    const allowlist = record.instanceAllowlist === null ? null : JSON.stringify(record.instanceAllowlist);
    this.c.stmts
      .get('INSERT INTO tokens (id, org_id, name, hash, scopes, instance_allowlist, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.id, record.orgId, record.name, record.hash, JSON.stringify(record.scopes), allowlist, record.expiresAt, record.createdAt);
    return made;
  }

  findByHash(hash: string): TokenRecord | undefined {
    const now = Date.now();
    const hit = this.cache.get(hash, now);
    if (hit) return hit;
    const r = this.c.stmts.get('SELECT * FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    const record = r && toToken(r);
    this.cache.put(hash, record, now);
    return record;
  }

  list(orgId?: string): TokenRecord[] {
    const rows = (
      orgId === undefined
        ? this.c.stmts.get('SELECT * FROM tokens ORDER BY created_at, id').all()
        : this.c.stmts.get('SELECT * FROM tokens WHERE org_id = ? ORDER BY created_at, id').all(orgId)
    ) as TokenRow[];
    return rows.map(toToken);
  }

  revoke(id: string): boolean {
    this.cache.clear();
    return this.c.stmts.get('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.c.now(), id).changes === 1;
  }

  revokeAll(orgId: string): number {
    this.cache.clear();
    return this.c.stmts.get('UPDATE tokens SET revoked_at = ? WHERE org_id = ? AND revoked_at IS NULL').run(this.c.now(), orgId).changes;
  }

  touch(id: string, at: number): void {
    this.c.stmts.get('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }
}
