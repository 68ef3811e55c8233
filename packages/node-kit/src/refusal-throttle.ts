/** What a throttle knows of the refusals of one reason from one source in one interval. */
export interface RefusalWindow<Row> {
  readonly source: string;
  readonly startedAt: number;
  /** Refusals after the first, not yet written. */
  readonly repeats: number;
  readonly first: Row;
  readonly last: Row;
}

export interface RefusalThrottleOptions<Row> {
  intervalMs: number;
  now: () => number;
  /** Windows open at once; past it every new source shares the source `*`, so the cap also bounds the rows. */
  maxWindows: number;
  /** Write the first refusal of a window. */
  writeFirst: (row: Row) => void;
  /** Write the count of a window that closes with repeats. */
  writeRepeats: (window: RefusalWindow<Row>, closedAt: number) => void;
}

interface OpenWindow<Row> {
  source: string;
  startedAt: number;
  repeats: number;
  first: Row;
  last: Row;
}

/**
 * Keeps refusals anyone can provoke (a hostile page retrying in a loop, a password sprayer) from growing an
 * append-only audit table without bound: the first refusal of a reason from a source in an interval is written at
 * once, the rest are counted and written as one row when the interval ends (or the program stops).
 */
export class RefusalThrottle<Row> {
  private readonly windows = new Map<string, OpenWindow<Row>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: RefusalThrottleOptions<Row>) {
    this.timer = setInterval(() => this.flush(false), opts.intervalMs);
    this.timer.unref();
  }

  record(reason: string, from: string, row: Row): void {
    const full = this.windows.size >= this.opts.maxWindows && !this.windows.has(keyOf(reason, from));
    const source = full ? '*' : from;
    const key = keyOf(reason, source);
    const now = this.opts.now();
    const open = this.windows.get(key);
    if (open && now - open.startedAt < this.opts.intervalMs) {
      open.repeats++;
      open.last = row;
      return;
    }
    if (open) this.close(key, open);
    this.windows.set(key, { source, startedAt: now, repeats: 0, first: row, last: row });
    this.opts.writeFirst(row);
  }

  /** Write the counts of the windows whose interval is over (all of them when `all`). */
  flush(all: boolean): void {
    const now = this.opts.now();
    for (const [key, w] of this.windows) if (all || now - w.startedAt >= this.opts.intervalMs) this.close(key, w);
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private close(key: string, w: OpenWindow<Row>): void {
    this.windows.delete(key);
    if (w.repeats > 0) this.opts.writeRepeats(w, this.opts.now());
  }
}

function keyOf(reason: string, source: string): string {
  return JSON.stringify([reason, source]);
}
