import { randomBytes } from 'node:crypto';
import { newId } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';
import { generateSecret, hashSecret } from '../../tokens/token-format.js';
import type { TokenRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** How long a token row may be served from memory; see `findByHash`. */
export const TOKEN_CACHE_MS = 2000;

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

/** The `tokens` table: planner tokens, stored by the hash of their secret only. */
export class SqliteTokens {
  /**
   * Token look-ups are cached for TOKEN_CACHE_MS: the look-up was the largest single cost of a planner call.
   * Revocations through this store clear the cache at once; one made by another process (the CLI against the
   * same file) takes effect within TOKEN_CACHE_MS.
   */
  private readonly cache = new Map<string, { record: TokenRecord | undefined; at: number }>();

  constructor(private readonly c: SqliteContext) {}

  /** Insert a new token; the caller has checked the org, the scopes and the allowlist. */
  create(input: { orgId: string; name: string; scopes: Scope[]; instanceAllowlist?: string[] | null; expiresAt?: number | null }): { record: TokenRecord; secret: string } {
    const secret = generateSecret('planner');
    const record: TokenRecord = {
      id: newId('token', (n) => randomBytes(n)),
      orgId: input.orgId,
      name: input.name,
      hash: hashSecret(secret),
      scopes: [...new Set(input.scopes)],
      instanceAllowlist: input.instanceAllowlist ?? null,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      createdAt: this.c.now(),
    };
    const allowlist = record.instanceAllowlist === null ? null : JSON.stringify(record.instanceAllowlist);
    this.c.stmts
      .get('INSERT INTO tokens (id, org_id, name, hash, scopes, instance_allowlist, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.id, record.orgId, record.name, record.hash, JSON.stringify(record.scopes), allowlist, record.expiresAt, record.createdAt);
    return { record, secret };
  }

  findByHash(hash: string): TokenRecord | undefined {
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && now - hit.at < TOKEN_CACHE_MS) return hit.record;
    const r = this.c.stmts.get('SELECT * FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    const record = r && toToken(r);
    // Only known tokens are cached, so random garbage cannot fill the map.
    if (record) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(hash, { record, at: now });
    }
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
