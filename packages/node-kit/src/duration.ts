const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The duration grammar: a number followed by ms, s, m, h or d. */
export const DURATION_PATTERN = /^\d{1,9}(ms|s|m|h|d)$/;

/** Parse `"250ms"`, `"30s"`, `"10m"`, `"2h"`, `"30d"` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (use a number followed by ms, s, m, h or d, e.g. "10m")`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
