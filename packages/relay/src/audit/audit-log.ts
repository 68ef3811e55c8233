import { linkRows, type AuditChainPort } from '@sluice/node-kit';
import type { AuditInput } from '../store/relay-store.js';
import { relayAuditHasher, type RelayAuditFields } from './audit-chain.js';

/** How long a failed commit waits before it is tried again. */
const RETRY_MS = 1000;

/**
 * The relay's audit writer over any store. Rows queued in one event-loop turn are chained and committed together
 * right after it (group commit), so every planner call is audited without one disk commit per request. A failed
 * commit keeps the rows and tries again: an audit row is never dropped silently.
 */
export class AuditLog {
  private queue: RelayAuditFields[] = [];
  private flushScheduled = false;
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly port: AuditChainPort<RelayAuditFields>,
    private readonly now: () => number,
    private readonly onRetryFailure: (err: unknown) => void,
  ) {}

  append(entry: AuditInput): void {
    this.queue.push({
      at: this.now(),
      orgId: entry.orgId,
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome,
      ip: entry.ip ?? null,
      detail: JSON.stringify(entry.detail ?? {}),
    });
    this.schedule(() => setImmediate(() => this.flushInBackground()));
  }

  /**
   * Commit queued rows now. Commits of this process run one after another, so a flush also waits for a commit
   * already under way (its rows were queued before this call): a reader that flushes sees every row queued so far.
   */
  flush(): Promise<void> {
    this.flushScheduled = false;
    const run = this.committing.then(() => this.commitQueued());
    this.committing = run.catch(() => {});
    return run;
  }

  private async commitQueued(): Promise<void> {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      await this.port.appendUnderLock((head) => linkRows(relayAuditHasher, head, batch));
    } catch (err) {
      this.queue = [...batch, ...this.queue];
      this.schedule(() => setTimeout(() => this.flushInBackground(), RETRY_MS).unref());
      throw err;
    }
  }

  private schedule(start: () => void): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    start();
  }

  private flushInBackground(): void {
    this.flush().catch(this.onRetryFailure);
  }
}
