import { createHash } from 'node:crypto';

/** The hash before the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The last row of a chain: the next row takes `seq + 1` and links to `hash`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** One stored row: its place in the chain and the fields its hash covers. */
export interface ChainedRow<F> {
  seq: number;
  prevHash: string;
  hash: string;
  fields: F;
}

/**
 * How one table hashes its rows. Fixed per table once released: stored chains were hashed with it, so changing it
 * would break every existing database.
 */
export type RowHasher<F> = (prevHash: string, seq: number, fields: F) => string;

export const sha256Hex = (...parts: string[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p, 'utf8');
  return h.digest('hex');
};

/** Chain `entries` after `head`, in order. */
export function linkRows<F>(hasher: RowHasher<F>, head: ChainHead, entries: readonly F[]): ChainedRow<F>[] {
  const rows: ChainedRow<F>[] = [];
  let prev = head;
  for (const fields of entries) {
    const seq = prev.seq + 1;
    const row = { seq, prevHash: prev.hash, hash: hasher(prev.hash, seq, fields), fields };
    rows.push(row);
    prev = row;
  }
  return rows;
}

/**
 * Where rows are stored. `appendUnderLock` holds the chain's write lock (a SQLite write transaction, a PostgreSQL
 * advisory lock) while it reads the head, calls `link` and inserts what `link` returns, so two writers never chain
 * onto the same head.
 */
export interface AuditChainPort<F> {
  appendUnderLock(link: (head: ChainHead) => readonly ChainedRow<F>[]): Promise<void>;
}

export type AuditProblemKind = 'hash_mismatch' | 'chain_broken' | 'sequence_gap' | 'tail_missing';

const PROBLEM_REASONS: Record<AuditProblemKind, string> = {
  hash_mismatch: 'the row content does not match its hash (the row was edited)',
  chain_broken: 'prev_hash does not match the hash of the row before it (a row was removed or inserted)',
  sequence_gap: 'rows are missing before this one',
  tail_missing: 'rows were deleted from the end',
};

export interface AuditProblem {
  seq: number;
  problem: AuditProblemKind;
  reason: string;
}

/** What `audit verify` reports, in every program. */
export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** Every break found, in sequence order. */
  problems: AuditProblem[];
}

/** The exit code of `audit verify` when the chain is broken, in every program. */
export const AUDIT_BROKEN_EXIT_CODE = 2;

const problem = (seq: number, kind: AuditProblemKind): AuditProblem => ({ seq, problem: kind, reason: PROBLEM_REASONS[kind] });

/**
 * Check a chain in sequence order. An edited row fails its own hash; a deleted or inserted row breaks the link of
 * the next one or leaves a gap; `highestSeq` (the table's sequence counter, which never goes back) reveals a
 * deleted tail.
 */
export function verifyChain<F>(hasher: RowHasher<F>, rows: Iterable<ChainedRow<F>>, highestSeq: number): AuditVerification {
  const problems: AuditProblem[] = [];
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  let lastSeq = 0;
  for (const row of rows) {
    count++;
    if (row.seq !== expectedSeq) problems.push(problem(row.seq, 'sequence_gap'));
    if (row.prevHash !== prev) problems.push(problem(row.seq, 'chain_broken'));
    if (hasher(row.prevHash, row.seq, row.fields) !== row.hash) problems.push(problem(row.seq, 'hash_mismatch'));
    prev = row.hash;
    expectedSeq = row.seq + 1;
    lastSeq = row.seq;
  }
  if (highestSeq > lastSeq) problems.push(problem(highestSeq, 'tail_missing'));
  return { ok: problems.length === 0, rows: count, problems };
}
