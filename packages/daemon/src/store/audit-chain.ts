import type Database from 'better-sqlite3';
import { GENESIS_HASH, sha256Hex, verifyChain, type AuditVerification, type ChainedRow, type RowHasher } from '@sluice/node-kit';

export { GENESIS_HASH };

/** The fields of one ledger audit row that its hash covers (everything but the hash itself). */
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

type LedgerAuditFields = Omit<AuditFields, 'seq' | 'prev_hash'>;

/** The ledger's canonical form: sha256(prev_hash, "\n", JSON[seq, at, actor, action, target, outcome, details]). */
const ledgerAuditHasher: RowHasher<LedgerAuditFields> = (prevHash, seq, f) =>
  sha256Hex(prevHash, '\n', JSON.stringify([seq, f.at, f.actor, f.action, f.target, f.outcome, f.details]));

/** The hash a ledger audit row must carry. */
export function auditRowHash(f: AuditFields): string {
  return ledgerAuditHasher(f.prev_hash, f.seq, f);
}

/** What `sluice audit verify` reports. */
export type AuditVerifyResult = AuditVerification;

/** Walk the whole chain: edited, inserted, reordered or deleted rows all break it somewhere. */
export function verifyAuditChain(db: Database.Database): AuditVerification {
  const iter = db.prepare('SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM audit ORDER BY seq').iterate() as IterableIterator<
    AuditFields & { hash: string }
  >;
  const rows = (function* (): Generator<ChainedRow<LedgerAuditFields>> {
    for (const r of iter) yield { seq: r.seq, prevHash: r.prev_hash, hash: r.hash, fields: r };
  })();
  // AUTOINCREMENT never reuses numbers, so a deleted tail shows as a counter ahead of the last row.
  const counter = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined;
  return verifyChain(ledgerAuditHasher, rows, counter?.seq ?? 0);
}
