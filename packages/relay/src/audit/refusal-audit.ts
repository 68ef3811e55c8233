import type { AuditInput, RelayStore } from '../store/relay-store.js';

interface Window {
  start: number;
  repeats: number;
  last: AuditInput;
}

/** Past this many open windows (one per reason and source) they are all closed at once, so memory stays bounded. */
const MAX_WINDOWS = 10_000;

/**
 * Audit rows for refusals anyone can provoke (failed authentication, refused enrollments and handshakes). The first
 * refusal of a reason (action, outcome, org) from a source (IP) is written at once; repeats within the interval are
 * counted and written as one row with `detail.repeats` when the interval ends, so a flood adds one row per interval
 * instead of one per request.
 */
export class RefusalAudit {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: RelayStore,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {
    this.timer = setInterval(() => this.closeWindows(false), intervalMs);
    this.timer.unref();
  }

  record(entry: AuditInput): void {
    const key = JSON.stringify([entry.action, entry.outcome, entry.orgId, entry.ip ?? null]);
    const now = this.now();
    const open = this.windows.get(key);
    if (open && now - open.start < this.intervalMs) {
      open.repeats++;
      open.last = entry;
      return;
    }
    if (open) this.close(key, open);
    if (this.windows.size >= MAX_WINDOWS) this.closeWindows(true);
    void this.store.appendAudit(entry);
    this.windows.set(key, { start: now, repeats: 0, last: entry });
  }

  /** Write the counts of every open window (on shutdown), or only of those whose interval is over. */
  closeWindows(all: boolean): void {
    const now = this.now();
    for (const [key, w] of this.windows) if (all || now - w.start >= this.intervalMs) this.close(key, w);
  }

  stop(): void {
    clearInterval(this.timer);
    this.closeWindows(true);
  }

  private close(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.repeats === 0) return;
    void this.store.appendAudit({
      ...w.last,
      detail: { ...w.last.detail, repeats: w.repeats, since: new Date(w.start).toISOString(), until: new Date(this.now()).toISOString() },
    });
  }
}
