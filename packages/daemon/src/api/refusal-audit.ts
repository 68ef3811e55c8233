import { RefusalThrottle } from '@sluice/node-kit';
import type { AuditInput, Store } from '../store/index.js';

/** One audit row per refusal reason and source in this interval; the rest are counted. */
export const REFUSAL_INTERVAL_MS = 60_000;
/** Sources tracked at once (the daemon listens on loopback, so there are few). */
const MAX_SOURCES = 1024;

/** Audits refused requests, one row per reason and source per interval and one row with the count of the rest. */
export class RefusalAudit {
  private readonly throttle: RefusalThrottle<AuditInput>;

  constructor(store: Store, now: () => number = Date.now, intervalMs = REFUSAL_INTERVAL_MS) {
    this.throttle = new RefusalThrottle<AuditInput>({
      intervalMs,
      now,
      maxWindows: MAX_SOURCES,
      writeFirst: (row) => store.audit(row),
      writeRepeats: (w) =>
        store.audit({
          actor: w.first.actor,
          action: w.first.action,
          target: w.first.target ?? null,
          outcome: w.first.outcome,
          details: { source: w.source, repeated: w.repeats, since: new Date(w.startedAt).toISOString(), intervalMs },
        }),
    });
  }

  record(row: AuditInput, from: string): void {
    this.throttle.record(JSON.stringify([row.action, row.outcome]), from, row);
  }

  /** Write the counts of intervals that ended (all of them when `all`). */
  flush(all: boolean): void {
    this.throttle.flush(all);
  }

  stop(): void {
    this.throttle.stop();
  }
}
