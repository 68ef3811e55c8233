import type { AuditInput, Store } from '../store/index.js';

/** One audit row per refusal reason and source in this interval; the rest are counted. */
export const REFUSAL_INTERVAL_MS = 60_000;
/** Sources tracked at once (the daemon listens on loopback, so there are few). */
const MAX_SOURCES = 1024;

function keyOf(row: AuditInput, source: string): string {
  return JSON.stringify([row.action, row.outcome, source]);
}

interface Window {
  startedAt: number;
  repeated: number;
  first: AuditInput;
}

/**
 * Audits refused requests without letting a flood (a hostile web page retrying in a loop) grow the append-only
 * audit table without bound: the first refusal of a reason from a source in an interval is written at once, the
 * rest of that interval are counted and written as one `repeated` row when the interval ends (or the daemon stops).
 */
export class RefusalAudit {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = REFUSAL_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => this.flush(false), intervalMs);
    this.timer.unref();
  }

  record(row: AuditInput, from: string): void {
    // Past the cap every new source shares one window per reason, so the cap also bounds the rows.
    const source = this.windows.size >= MAX_SOURCES && !this.windows.has(keyOf(row, from)) ? '*' : from;
    const key = keyOf(row, source);
    const open = this.windows.get(key);
    if (open && this.now() - open.startedAt < this.intervalMs) {
      open.repeated++;
      return;
    }
    if (open) this.close(key, open);
    this.windows.set(key, { startedAt: this.now(), repeated: 0, first: row });
    this.store.audit(row);
  }

  /** Write the counts of intervals that ended (all of them when `all`). */
  flush(all: boolean): void {
    for (const [key, w] of this.windows) {
      if (all || this.now() - w.startedAt >= this.intervalMs) this.close(key, w);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private close(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.repeated === 0) return;
    const [, , source] = JSON.parse(key) as [string, string, string];
    this.store.audit({
      actor: w.first.actor,
      action: w.first.action,
      target: w.first.target ?? null,
      outcome: w.first.outcome,
      details: { source, repeated: w.repeated, since: new Date(w.startedAt).toISOString(), intervalMs: this.intervalMs },
    });
  }
}
