/** Thrown when `waitUntil` runs out of time; the message says what was awaited. */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/**
 * Poll until `fn` returns a truthy value (errors count as "not yet"); returns that value. On timeout it throws with
 * `what` and the last error, so a regression fails with a message instead of hanging until the test's timeout.
 */
export async function waitUntil<T>(fn: () => T | Promise<T>, opts: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const last = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new WaitTimeout(`timed out waiting for ${opts.what}${last}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
