const SUMMARY_MAX = 500;

/** Shorten a summary to one bounded paragraph. */
export function clipSummary(s: string | null | undefined): string | null {
  if (!s) return null;
  const t = s.trim();
  if (!t) return null;
  return t.length > SUMMARY_MAX ? `${t.slice(0, SUMMARY_MAX - 1)}…` : t;
}

/** The last non-empty line of a text. */
export function lastLine(s: string): string | null {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1]! : null;
}

/** Parse JSON lines, skipping lines that are not JSON objects. */
export function jsonLines(s: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of s.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // a partial or non-JSON line is kept in the raw stdout artifact only
    }
  }
  return out;
}

/** A property as a string, or null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A property as an object, or null. */
export function obj(v: unknown): Record<string, unknown> | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
