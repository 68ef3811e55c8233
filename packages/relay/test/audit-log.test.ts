import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, type AuditChainPort, type ChainedRow, type ChainHead } from '@sluice/node-kit';
import { AuditLog } from '../src/audit/audit-log.js';
import type { RelayAuditFields } from '../src/audit/audit-chain.js';

/** A port whose commits finish only when the test says so (a database round trip in flight). */
class SlowPort implements AuditChainPort<RelayAuditFields> {
  readonly committed: ChainedRow<RelayAuditFields>[] = [];
  release: () => void = () => {};

  appendUnderLock(link: (head: ChainHead) => readonly ChainedRow<RelayAuditFields>[]): Promise<void> {
    const rows = link({ seq: this.committed.length, hash: this.committed.at(-1)?.hash ?? GENESIS_HASH });
    return new Promise((resolve) => {
      this.release = () => {
        this.committed.push(...rows);
        resolve();
      };
    });
  }
}

describe('AuditLog', () => {
  it('a flush waits for the commit already under way, so a reader after it sees every row queued before', async () => {
    const port = new SlowPort();
    const log = new AuditLog(port, () => 0, (err) => {
      throw err;
    });
    log.append({ orgId: null, actor: 'system:test', action: 'first', outcome: 'ok' });
    const underWay = log.flush();
    let second = false;
    const reader = log.flush().then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    port.release();
    await Promise.all([underWay, reader]);
    expect(port.committed.map((r) => r.fields.action)).toEqual(['first']);
  });
});
