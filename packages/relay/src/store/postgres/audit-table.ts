import type { AuditChainPort, ChainedRow, ChainHead } from '@sluice/node-kit';
import { GENESIS_HASH } from '@sluice/node-kit';
import { fromChained, verifyAuditRows, type AuditRow, type AuditVerification, type RelayAuditFields } from '../../audit/audit-chain.js';
import { AUDIT_COLUMNS, auditValues, toAudit, type AuditDbRow } from '../records.js';
import { inTransaction, type PgContext } from './context.js';

type Link = (head: ChainHead) => readonly ChainedRow<RelayAuditFields>[];

/** Rows per page of a verification, so no single result set is the whole table. */
const VERIFY_PAGE = 5000;

/**
 * The `audit` table with several writers: `audit_head` holds the highest seq ever written, and locking its one row
 * (`FOR UPDATE`) serializes appends of every replica, so the chain has one order.
 */
export class PgAuditTable implements AuditChainPort<RelayAuditFields> {
  constructor(private readonly c: PgContext) {}

  appendUnderLock(link: Link): Promise<void> {
    return inTransaction(this.c.pool, async (client) => {
      const seq = (await client.query<{ seq: number }>('SELECT seq FROM audit_head FOR UPDATE')).rows[0]!.seq;
      const last = (await client.query<{ hash: string }>('SELECT hash FROM audit ORDER BY seq DESC LIMIT 1')).rows[0];
      const rows = link({ seq, hash: last?.hash ?? GENESIS_HASH }).map(fromChained);
      if (rows.length === 0) return;
      const placeholders = rows.map((_, i) => `(${Array.from({ length: 11 }, (_, j) => `$${i * 11 + j + 1}`).join(', ')})`).join(', ');
      await client.query(`INSERT INTO audit (${AUDIT_COLUMNS}) VALUES ${placeholders}`, rows.flatMap(auditValues));
      await client.query('UPDATE audit_head SET seq = $1', [rows.at(-1)!.seq]);
    });
  }

  async list(orgId: string, opts: { after?: number; limit: number }): Promise<AuditRow[]> {
    const r = await this.c.pool.query<AuditDbRow>('SELECT * FROM audit WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [orgId, opts.after ?? 0, opts.limit]);
    return r.rows.map(toAudit);
  }

  async verify(): Promise<AuditVerification> {
    const counter = (await this.c.pool.query<{ seq: number }>('SELECT seq FROM audit_head')).rows[0]?.seq ?? 0;
    const rows: AuditRow[] = [];
    for (let after = 0; ; ) {
      const page = (await this.c.pool.query<AuditDbRow>('SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2', [after, VERIFY_PAGE])).rows;
      rows.push(...page.map(toAudit));
      if (page.length < VERIFY_PAGE) break;
      after = page.at(-1)!.seq;
    }
    return verifyAuditRows(rows, counter);
  }
}
