import type { DispatchAnswerRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `dispatch_answers` table: what an idempotent `steps.dispatch` answered, kept for a TTL. */
export class SqliteDispatchAnswers {
  constructor(private readonly c: SqliteContext) {}

  get(orgId: string, runId: string, key: string, ttlMs: number): DispatchAnswerRecord | undefined {
    const r = this.c.stmts
      .get('SELECT input_hash, step_id FROM dispatch_answers WHERE org_id = ? AND run_id = ? AND idem_key = ? AND created_at > ?')
      .get(orgId, runId, key, this.c.now() - ttlMs) as { input_hash: string; step_id: string } | undefined;
    return r && { inputHash: r.input_hash, stepId: r.step_id };
  }

  put(orgId: string, runId: string, key: string, record: DispatchAnswerRecord, ttlMs: number): void {
    const now = this.c.now();
    this.c.stmts.get('DELETE FROM dispatch_answers WHERE created_at <= ?').run(now - ttlMs);
    this.c.stmts
      .get('INSERT OR REPLACE INTO dispatch_answers (org_id, run_id, idem_key, input_hash, step_id, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(orgId, runId, key, record.inputHash, record.stepId, now);
  }
}
