import * as z from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parse `"10m"`, `"30s"`, `"250ms"`, `"2h"`, `"30d"` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: use a number followed by ms, s, m, h or d (e.g. "10m")`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A duration in config: `"10m"` style text compiled to milliseconds. */
export const Duration = z
  .string()
  .regex(/^\d{1,9}(ms|s|m|h|d)$/, 'must be a duration such as "30s" or "10m"')
  .transform((s) => parseDuration(s));
