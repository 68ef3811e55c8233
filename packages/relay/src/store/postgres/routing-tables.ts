import type { DispatchAnswerRecord, DispatchClaim } from '../relay-store.js';
import { replicaAliveSql, type PgContext } from './context.js';

/** The `id_owners` table: which instance answers for a run, step or attempt id, per org. Owners never change. */
export class PgIdOwners {
  private readonly owners = new Map<string, string>();

  constructor(private readonly c: PgContext) {}

  async record(orgId: string, id: string, instanceId: string): Promise<void> {
    const k = `${orgId}/${id}`;
    if (this.owners.has(k)) return;
    await this.c.pool.query('INSERT INTO id_owners (org_id, id, instance_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [orgId, id, instanceId, this.c.now()]);
    const stored = await this.get(orgId, id);
    if (stored !== undefined) this.remember(k, stored);
  }

  async get(orgId: string, id: string): Promise<string | undefined> {
    const k = `${orgId}/${id}`;
    const cached = this.owners.get(k);
    if (cached !== undefined) return cached;
    const r = (await this.c.pool.query<{ instance_id: string }>('SELECT instance_id FROM id_owners WHERE org_id = $1 AND id = $2', [orgId, id])).rows[0];
    if (r) this.remember(k, r.instance_id);
    return r?.instance_id;
  }

  private remember(k: string, instanceId: string): void {
    if (this.owners.size >= 100_000) this.owners.clear();
    this.owners.set(k, instanceId);
  }
}

/**
 * The `dispatch_answers` table; a claim in flight has a NULL step id. Its primary key is the cross-replica lock. A
 * claim names the replica that holds it, so one left by a dead replica is taken over at once rather than when it is
 * stale (a resend is safe: the daemon's own `(run, key)` check answers it with the step it already made).
 */
export class PgDispatchAnswers {
  constructor(
    private readonly c: PgContext,
    private readonly replicaId: string,
  ) {}

  async get(orgId: string, runId: string, key: string, ttlMs: number): Promise<DispatchAnswerRecord | undefined> {
    const r = (
      await this.c.pool.query<{ input_hash: string; step_id: string }>(
        'SELECT input_hash, step_id FROM dispatch_answers WHERE org_id = $1 AND run_id = $2 AND idem_key = $3 AND created_at > $4 AND step_id IS NOT NULL',
        [orgId, runId, key, this.c.now() - ttlMs],
      )
    ).rows[0];
    return r && { inputHash: r.input_hash, stepId: r.step_id };
  }

  async claim(orgId: string, runId: string, key: string, inputHash: string, opts: { ttlMs: number; staleMs: number }): Promise<true | DispatchClaim> {
    const now = this.c.now();
    const won = await this.c.pool.query(
      `INSERT INTO dispatch_answers AS d (org_id, run_id, idem_key, input_hash, step_id, created_at, claimed_by) VALUES ($1, $2, $3, $4, NULL, $5, $8)
       ON CONFLICT (org_id, run_id, idem_key) DO UPDATE SET input_hash = EXCLUDED.input_hash, step_id = NULL, created_at = EXCLUDED.created_at, claimed_by = EXCLUDED.claimed_by
       WHERE (d.step_id IS NOT NULL AND d.created_at <= $6)
          OR (d.step_id IS NULL AND (d.created_at <= $7 OR (d.claimed_by IS NOT NULL AND d.claimed_by <> $8 AND NOT ${replicaAliveSql('d.claimed_by')})))`,
      [orgId, runId, key, inputHash, now, now - opts.ttlMs, now - opts.staleMs, this.replicaId],
    );
    if (won.rowCount === 1) return true;
    const r = (await this.c.pool.query<{ input_hash: string; step_id: string | null }>('SELECT input_hash, step_id FROM dispatch_answers WHERE org_id = $1 AND run_id = $2 AND idem_key = $3', [orgId, runId, key])).rows[0];
    // Released between the two statements: claim again.
    return r ? { inputHash: r.input_hash, stepId: r.step_id } : this.claim(orgId, runId, key, inputHash, opts);
  }

  async release(orgId: string, runId: string, key: string, inputHash: string): Promise<void> {
    await this.c.pool.query('DELETE FROM dispatch_answers WHERE org_id = $1 AND run_id = $2 AND idem_key = $3 AND input_hash = $4 AND step_id IS NULL', [orgId, runId, key, inputHash]);
  }

  async put(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): Promise<void> {
    const now = this.c.now();
    await this.c.pool.query('DELETE FROM dispatch_answers WHERE created_at <= $1 AND step_id IS NOT NULL', [now - ttlMs]);
    await this.c.pool.query(
      `INSERT INTO dispatch_answers (org_id, run_id, idem_key, input_hash, step_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org_id, run_id, idem_key) DO UPDATE SET input_hash = EXCLUDED.input_hash, step_id = EXCLUDED.step_id, created_at = EXCLUDED.created_at`,
      [orgId, runId, key, record.inputHash, record.stepId, now],
    );
  }
}
