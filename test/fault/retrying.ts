import { PlannerError } from '../helpers/index.mjs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown by a `retrying` body to ask for another try. */
export class NotYet extends Error {}

/** Call until the stack answers (it may be restarting); transport and availability errors are retried. */
export async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const retryable = new Set(['INSTANCE_OFFLINE', 'DAEMON_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UNAVAILABLE', 'UPSTREAM_ERROR']);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const code = err instanceof PlannerError ? err.code : err instanceof NotYet ? 'NOT_YET' : 'FETCH_FAILED';
      if (err instanceof PlannerError && !retryable.has(code)) throw err;
      if (Date.now() > deadline) throw new Error(`${what}: still failing (${code}) after ${timeoutMs} ms`);
      await sleep(150);
    }
  }
}
