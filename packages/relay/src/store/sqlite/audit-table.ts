import type Database from 'better-sqlite3';
import { GENESIS_HASH, type AuditChainPort, type ChainedRow, type ChainHead } from '@sluice/node-kit';
import { fromChained, verifyAuditRows, type AuditRow, type AuditVerification, type RelayAuditFields } from '../../audit/audit-chain.js';
import { AUDIT_COLUMNS, auditValues, toAudit, type AuditDbRow } from '../records.js';
import type { SqliteContext } from './context.js';

type Link = (head: ChainHead) => readonly ChainedRow<RelayAuditFields>[];

/** The `audit` table; its write lock is SQLite's: a `BEGIN IMMEDIATE` transaction around head, link and insert. */
export class SqliteAuditTable implements AuditChainPort<RelayAuditFields> {
  /** Built once: better-sqlite3 prepares BEGIN/COMMIT for every transaction function it creates. */
  private readonly appendTx: Database.Transaction<(link: Link) => void>;

  constructor(private readonly c: SqliteContext) {
    this.appendTx = c.db.transaction((link: Link) => {
      for (const row of link(this.head())) this.insert(fromChained(row));
    });
  }

  appendUnderLock(link: Link): Promise<void> {
    try {
      if (this.c.db.open) this.appendTx.immediate(link);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  list(orgId: string, opts: { after?: number; limit: number }): AuditRow[] {
    const rows = this.c.stmts.get('SELECT * FROM audit WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(orgId, opts.after ?? 0, opts.limit) as AuditDbRow[];
    return rows.map(toAudit);
  }

  verify(): AuditVerification {
    const iter = this.c.stmts.get('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditDbRow>;
    const rows = (function* () {
      for (const r of iter) yield toAudit(r);
    })();
    return verifyAuditRows(rows, this.counter());
  }

  /** AUTOINCREMENT never reuses numbers: the counter is the highest seq ever written, even after a deleted tail. */
  private counter(): number {
    return (this.c.stmts.get("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined)?.seq ?? 0;
  }

  private head(): ChainHead {
    const last = this.c.stmts.get('SELECT hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
    return { seq: this.counter(), hash: last?.hash ?? GENESIS_HASH };
  }

  private insert(row: AuditRow): void {
    this.c.stmts.get(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...auditValues(row));
  }
}
