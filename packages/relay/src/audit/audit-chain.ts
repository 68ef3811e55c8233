import { createHash } from 'node:crypto';

/** One audit row as stored. `detail` is a JSON object serialized once, so the hash covers exact bytes. */
export interface AuditRow {
  seq: number;
  at: number;
  orgId: string | null;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  detail: string;
  prevHash: string;
  hash: string;
}

/** The hash of the row before the first one. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hash a row must carry: SHA-256 over the previous hash and every field, in a fixed order. */
export function auditRowHash(row: Omit<AuditRow, 'hash'>): string {
  const canonical = JSON.stringify([row.prevHash, row.seq, row.at, row.orgId, row.actor, row.action, row.target, row.outcome, row.ip, row.detail]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export interface AuditProblem {
  seq: number;
  problem: 'hash_mismatch' | 'chain_broken' | 'sequence_gap' | 'tail_missing';
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  problems: AuditProblem[];
}

/**
 * Check a chain in sequence order. An edited row fails its own hash; a deleted or inserted row breaks the link
 * of the next one or leaves a gap; `highestSeq` (SQLite's AUTOINCREMENT counter) reveals a deleted tail.
 */
export function verifyAuditRows(rows: Iterable<AuditRow>, highestSeq: number): AuditVerification {
  const problems: AuditProblem[] = [];
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  let lastSeq = 0;
  for (const row of rows) {
    count++;
    if (row.seq !== expectedSeq) problems.push({ seq: row.seq, problem: 'sequence_gap' });
    if (row.prevHash !== prev) problems.push({ seq: row.seq, problem: 'chain_broken' });
    if (auditRowHash(row) !== row.hash) problems.push({ seq: row.seq, problem: 'hash_mismatch' });
    prev = row.hash;
    expectedSeq = row.seq + 1;
    lastSeq = row.seq;
  }
  if (highestSeq > lastSeq) problems.push({ seq: highestSeq, problem: 'tail_missing' });
  return { ok: problems.length === 0, rows: count, problems };
}
