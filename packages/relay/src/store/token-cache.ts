import type { TokenRecord } from './relay-store.js';

/**
 * Token look-ups cached for TOKEN_CACHE_MS: the look-up was the largest single cost of a planner call. A store
 * clears it on its own revocations; one made elsewhere takes effect within TOKEN_CACHE_MS.
 */
export const TOKEN_CACHE_MS = 2000;

export class TokenCache {
  private readonly cache = new Map<string, { record: TokenRecord; at: number }>();

  get(hash: string, now: number): TokenRecord | undefined {
    const hit = this.cache.get(hash);
    return hit && now - hit.at < TOKEN_CACHE_MS ? hit.record : undefined;
  }

  /** Only known tokens are cached, so random garbage cannot fill the map. */
  put(hash: string, record: TokenRecord | undefined, now: number): void {
    if (!record) return;
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(hash, { record, at: now });
  }

  clear(): void {
    this.cache.clear();
  }
}
