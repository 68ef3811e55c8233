import { sha256Hex, verifyChain, type AuditVerification, type ChainedRow, type RowHasher } from '@sluice/node-kit';

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

/** The fields of a row its hash covers besides its place in the chain. */
export type RelayAuditFields = Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>;

/** The relay's canonical form: SHA-256 over JSON[prevHash, seq, at, orgId, actor, action, target, outcome, ip, detail]. */
export const relayAuditHasher: RowHasher<RelayAuditFields> = (prevHash, seq, r) =>
  sha256Hex(JSON.stringify([prevHash, seq, r.at, r.orgId, r.actor, r.action, r.target, r.outcome, r.ip, r.detail]));

/** The hash a row must carry. */
export function auditRowHash(row: Omit<AuditRow, 'hash'>): string {
  return relayAuditHasher(row.prevHash, row.seq, row);
}

export const toChained = (row: AuditRow): ChainedRow<RelayAuditFields> => ({ seq: row.seq, prevHash: row.prevHash, hash: row.hash, fields: row });

export const fromChained = (row: ChainedRow<RelayAuditFields>): AuditRow => ({ ...row.fields, seq: row.seq, prevHash: row.prevHash, hash: row.hash });

/** Check a chain in sequence order; `highestSeq` (the table's sequence counter) reveals a deleted tail. */
export function verifyAuditRows(rows: Iterable<AuditRow>, highestSeq: number): AuditVerification {
  const chained = (function* () {
    for (const r of rows) yield toChained(r);
  })();
  return verifyChain(relayAuditHasher, chained, highestSeq);
}

export type { AuditVerification };
export type { AuditProblem } from '@sluice/node-kit';
