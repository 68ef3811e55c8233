import type { ChallengeEntry, ChallengeLedger } from '../connectors/challenge-book.js';
import type { PostgresRelayStore } from '../store/postgres-store.js';

/** Challenges every replica can check: a connector may fetch one through the balancer and upgrade on another replica. */
export class PgChallengeLedger implements ChallengeLedger {
  constructor(private readonly store: PostgresRelayStore) {}

  async add(nonce: string, entry: { instanceId: string; expiresAt: number }, now: number): Promise<void> {
    await this.store.pool.query('DELETE FROM connector_challenges WHERE expires_at <= $1', [now]);
    await this.store.pool.query('INSERT INTO connector_challenges (nonce, instance_id, expires_at) VALUES ($1, $2, $3)', [nonce, entry.instanceId, entry.expiresAt]);
  }

  /** The row lock makes a second use (any replica) see `used`. */
  async use(nonce: string): Promise<ChallengeEntry | undefined> {
    const r = (
      await this.store.pool.query<{ instance_id: string; expires_at: number; used: boolean }>(
        'UPDATE connector_challenges c SET used = TRUE FROM (SELECT nonce, used FROM connector_challenges WHERE nonce = $1 FOR UPDATE) old WHERE c.nonce = old.nonce RETURNING c.instance_id, c.expires_at, old.used',
        [nonce],
      )
    ).rows[0];
    return r && { instanceId: r.instance_id, expiresAt: r.expires_at, used: r.used };
  }
}
