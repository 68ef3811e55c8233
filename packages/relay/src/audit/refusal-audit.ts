import { RefusalThrottle } from '@sluice/node-kit';
import type { AuditInput, RelayStore } from '../store/relay-store.js';

/** Windows open at once (one per reason and source); past it new sources share one, so memory and rows stay bounded. */
const MAX_WINDOWS = 10_000;

/**
 * Audit rows for refusals anyone can provoke (failed authentication, refused enrollments and handshakes). The first
 * refusal of a reason (action, outcome, org) from a source (IP) is written at once; repeats within the interval are
 * counted and written as one row with `detail.repeats` when the interval ends, so a flood adds one row per interval
 * instead of one per request.
 */
export class RefusalAudit {
  private readonly throttle: RefusalThrottle<AuditInput>;

  constructor(store: RelayStore, intervalMs: number, now: () => number) {
    this.throttle = new RefusalThrottle<AuditInput>({
      intervalMs,
      now,
      maxWindows: MAX_WINDOWS,
      writeFirst: (entry) => void store.appendAudit(entry),
      writeRepeats: (w, closedAt) =>
        void store.appendAudit({
          ...w.last,
          detail: { ...w.last.detail, repeats: w.repeats, since: new Date(w.startedAt).toISOString(), until: new Date(closedAt).toISOString() },
        }),
    });
  }

  record(entry: AuditInput): void {
    this.throttle.record(JSON.stringify([entry.action, entry.outcome, entry.orgId]), entry.ip ?? '', entry);
  }

  /** Write the counts of every open window (on shutdown), or only of those whose interval is over. */
  closeWindows(all: boolean): void {
    this.throttle.flush(all);
  }

  stop(): void {
    this.throttle.stop();
  }
}
