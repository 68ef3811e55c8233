/** Reconnect timing. `baseMs` defaults to 1 s, `capMs` to 64 s. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 64_000 };

/**
 * Delay before reconnect attempt `n` (0-based): uniform jitter over a window of `base << min(n, 6)`, capped.
 * Full jitter spreads a fleet of connectors that lost the relay at the same moment.
 */
export function backoffDelay(n: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const window = Math.min(opts.baseMs * 2 ** Math.min(Math.max(n, 0), 6), opts.capMs);
  return Math.floor(random() * window);
}
