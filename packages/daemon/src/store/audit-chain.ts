import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** The hash before the first audit row. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of one audit row that its hash covers (everything but the hash itself). */
export interface AuditFields {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details: string;
  prev_hash: string;
}

/** sha256 over the previous hash and this row's canonical content. */
export function auditRowHash(f: AuditFields): string {
  const canonical = JSON.stringify([f.seq, f.at, f.actor, f.action, f.target, f.outcome, f.details]);
  return createHash('sha256').update(f.prev_hash).update('\n').update(canonical).digest('hex');
}

/** What `sluice audit verify` reports. */
export interface AuditVerifyResult {
  ok: boolean;
  rows: number;
  /** First row (by seq) where the chain breaks, with why. */
  firstBroken: { seq: number; reason: string } | null;
}

/** Walk the whole chain: edited, inserted, reordered or deleted rows all break it somewhere. */
export function verifyAuditChain(db: Database.Database): AuditVerifyResult {
  const rows = db.prepare('SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM audit ORDER BY seq').iterate() as IterableIterator<
    AuditFields & { hash: string }
  >;
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (const row of rows) {
    count++;
    const broken = (reason: string): AuditVerifyResult => ({ ok: false, rows: count, firstBroken: { seq: row.seq, reason } });
    if (row.seq !== expectedSeq) return broken(`row ${expectedSeq} is missing (the next row is ${row.seq})`);
    if (row.prev_hash !== prev) return broken('prev_hash does not match the hash of the row before it (a row was removed or inserted)');
    if (auditRowHash(row) !== row.hash) return broken('the row content does not match its hash (the row was edited)');
    prev = row.hash;
    expectedSeq++;
  }
  // AUTOINCREMENT never reuses numbers, so a deleted tail shows as a counter ahead of the last row.
  const seqRow = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined;
  if (seqRow && seqRow.seq > count) {
    return { ok: false, rows: count, firstBroken: { seq: count + 1, reason: `rows ${count + 1}..${seqRow.seq} were deleted from the end` } };
  }
  return { ok: true, rows: count, firstBroken: null };
}
