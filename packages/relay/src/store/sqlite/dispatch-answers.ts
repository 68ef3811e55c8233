import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DispatchAnswerRecord, DispatchClaim } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The step id of a claim whose dispatch is in flight (the column is NOT NULL). */
const PENDING = '';

/** Who holds a claim: this process, by host, pid and a random id (so a reused pid is never taken for this process). */
interface Claimant {
  host: string;
  pid: number;
  boot: string;
}

const SELF: Claimant = { host: hostname(), pid: process.pid, boot: randomBytes(8).toString('hex') };

/**
 * Whether the process that claimed a key may still send it. Only a claimant known to be gone counts as dead: this
 * process under another boot id, or a pid on this host that no longer exists. A claim from an older release (no
 * claimant), from another host, or unreadable, ends only when it is stale.
 */
export function claimantAlive(claimedBy: string | null): boolean {
  if (claimedBy === null) return true;
  let c: Claimant;
  try {
    c = JSON.parse(claimedBy) as Claimant;
  } catch {
    return true;
  }
  if (c.host !== SELF.host || !Number.isInteger(c.pid) || c.pid <= 0) return true;
  if (c.pid === SELF.pid) return c.boot === SELF.boot;
  try {
    process.kill(c.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The `dispatch_answers` table: what an idempotent `steps.dispatch` answered, kept for a TTL. A claim names the process
 * that holds it, so one a killed relay left is taken over by the next at once rather than when it is stale (a resend
 * is safe: the daemon's own `(run, key)` check answers it with the step it already made).
 */
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
        const r = this.c.stmts.get('SELECT input_hash, step_id, created_at, claimed_by FROM dispatch_answers WHERE org_id = ? AND run_id = ? AND idem_key = ?').get(orgId, runId, key) as
          | { input_hash: string; step_id: string; created_at: number; claimed_by: string | null }
          | undefined;
        const pending = r?.step_id === PENDING;
        const gone = !r || r.created_at <= now - (pending ? opts.staleMs : opts.ttlMs) || (pending && !claimantAlive(r.claimed_by));
        if (!gone) return { inputHash: r.input_hash, stepId: pending ? null : r.step_id };
        this.write(orgId, runId, key, inputHash, PENDING, now, JSON.stringify(SELF));
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

  private write(orgId: string, runId: string, key: string, inputHash: string, stepId: string, now: number, claimedBy: string | null = null): void {
    this.c.stmts
      .get('INSERT OR REPLACE INTO dispatch_answers (org_id, run_id, idem_key, input_hash, step_id, created_at, claimed_by) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(orgId, runId, key, inputHash, stepId, now, claimedBy);
  }
}
