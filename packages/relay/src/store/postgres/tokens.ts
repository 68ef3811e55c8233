import { newToken, type TokenInput } from '../new-records.js';
import { toToken, type TokenRow } from '../records.js';
import type { TokenRecord } from '../relay-store.js';
import { TokenCache } from '../token-cache.js';
import type { PgContext } from './context.js';

/** The `tokens` table. The cache is cleared by this store's revocations and by every replica's (see PgBus). */
export class PgTokens {
  readonly cache = new TokenCache();

  constructor(private readonly c: PgContext) {}

  async create(input: TokenInput): Promise<{ record: TokenRecord; secret: string }> {
    const made = newToken(input, this.c.now());
    const { record } = made;
    const allowlist = record.instanceAllowlist === null ? null : JSON.stringify(record.instanceAllowlist);
    await this.c.pool.query('INSERT INTO tokens (id, org_id, name, hash, scopes, instance_allowlist, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      record.id,
      record.orgId,
      record.name,
      record.hash,
      JSON.stringify(record.scopes),
      allowlist,
      record.expiresAt,
      record.createdAt,
    ]);
    return made;
  }

  async findByHash(hash: string): Promise<TokenRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(hash, now);
    if (hit) return hit;
    const r = (await this.c.pool.query<TokenRow>('SELECT * FROM tokens WHERE hash = $1', [hash])).rows[0];
    const record = r && toToken(r);
    this.cache.put(hash, record, now);
    return record;
  }

  async list(orgId?: string): Promise<TokenRecord[]> {
    const res =
      orgId === undefined
        ? await this.c.pool.query<TokenRow>('SELECT * FROM tokens ORDER BY created_at, id')
        : await this.c.pool.query<TokenRow>('SELECT * FROM tokens WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
    return res.rows.map(toToken);
  }

  async revoke(id: string): Promise<boolean> {
    this.cache.clear();
    return (await this.c.pool.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [this.c.now(), id])).rowCount === 1;
  }

  async revokeAll(orgId: string): Promise<number> {
    this.cache.clear();
    return (await this.c.pool.query('UPDATE tokens SET revoked_at = $1 WHERE org_id = $2 AND revoked_at IS NULL', [this.c.now(), orgId])).rowCount ?? 0;
  }

  async touch(id: string, at: number): Promise<void> {
    await this.c.pool.query('UPDATE tokens SET last_used_at = $1 WHERE id = $2', [at, id]);
  }
}
