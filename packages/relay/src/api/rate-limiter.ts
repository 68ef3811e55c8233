interface Window {
  start: number;
  count: number;
}

/**
 * Fixed-window request counts per key: `principal:<actor>` once a request is authenticated, `ip:<address>` for
 * unauthenticated routes and failed authentications. Keys never come from what a client wrote in a header, so
 * respelling a credential does not buy a new budget.
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Count one request of the key; over the limit, answers the seconds until the window ends, else undefined. */
  take(key: string): number | undefined {
    const now = this.now();
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > this.max ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : undefined;
  }

  /** Drop finished windows once per window length, so idle keys do not pile up. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
  }
}
