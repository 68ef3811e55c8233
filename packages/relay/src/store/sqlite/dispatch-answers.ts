import type { DispatchAnswerRecord, DispatchClaim } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The step id of a claim whose dispatch is in flight (the column is NOT NULL). */
const PENDING = '';

/** The `dispatch_answers` table: what an idempotent `steps.dispatch` answered, kept for a TTL. */
export class SqliteDispatchAnswers {
  constructor(private readonly c: SqliteContext) {}

  get(orgId: string, runId: string, key: string, ttlMs: number): DispatchAnswerRecord | undefined {
    const r = this.c.stmts
      .get('SELECT input_hash, step_id FROM dispatch_answers WHERE org_id = ? AND run_id = ? AND idem_key = ? AND created_at > ? AND step_id <> ?')
      .get(orgId, runId, key, this.c.now() - ttlMs, PENDING) as { input_hash: string; step_id: string } | undefined;
    return r && { inputHash: r.input_hash, stepId: r.step_id };
  }

  claim(orgId: string, runId: string, key: string, inputHash: string, opts: { ttlMs: number; staleMs: number }): true | DispatchClaim {
    return this.c.db
      .transaction((): true | DispatchClaim => {
        const now = this.c.now();
        const r = this.c.stmts.get('SELECT input_hash, step_id, created_at FROM dispatch_answers WHERE org_id = ? AND run_id = ? AND idem_key = ?').get(orgId, runId, key) as
          | { input_hash: string; step_id: string; created_at: number }
          | undefined;
        const gone = !r || r.created_at <= now - (r.step_id === PENDING ? opts.staleMs : opts.ttlMs);
        if (!gone) return { inputHash: r.input_hash, stepId: r.step_id === PENDING ? null : r.step_id };
        this.write(orgId, runId, key, inputHash, PENDING, now);
        return true;
      })
      .immediate();
  }

  release(orgId: string, runId: string, key: string, inputHash: string): void {
    this.c.stmts.get('DELETE FROM dispatch_answers WHERE org_id = ? AND run_id = ? AND idem_key = ? AND input_hash = ? AND step_id = ?').run(orgId, runId, key, inputHash, PENDING);
  }

  put(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): void {
    const now = this.c.now();
    this.c.stmts.get('DELETE FROM dispatch_answers WHERE created_at <= ?').run(now - ttlMs);
    this.write(orgId, runId, key, record.inputHash, record.stepId, now);
  }

  private write(orgId: string, runId: string, key: string, inputHash: string, stepId: string, now: number): void {
    this.c.stmts
      .get('INSERT OR REPLACE INTO dispatch_answers (org_id, run_id, idem_key, input_hash, step_id, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(orgId, runId, key, inputHash, stepId, now);
  }
}
