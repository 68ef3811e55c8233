/**
 * The goals each figure is held to, taken from the issues (relay: issue 6, daemon ledger: issue 4, daemon
 * execution: issue 5, scale: issue 9). A target is absolute (`value`, in the figure's unit) or relative to the
 * figure's baseline (`ratio`). Figures are matched by `id`, or by a pattern on the figure name for modules that
 * do not set ids.
 */
export const TARGETS = [
  { id: 'relay.hop.added-p50', op: '<', value: 0.5, source: 'issue 6' },
  { id: 'relay.hop.added-p99', op: '<', value: 2, source: 'issue 6' },
  { id: 'relay.rps', op: '>=', value: 5000, source: 'issue 6' },
  { id: 'mcp.call.p50', op: '<', value: 6, source: 'issue 6' },
  { id: 'daemon.idle-rss', op: '<', value: 100, source: 'issue 4' },
  { id: 'relay.idle-connectors.rss', op: '<', value: 300, source: 'issue 6' },
  { id: 'relay.fake-connector.mcp.p50', op: '<', value: 6, source: 'issue 6' },
  { id: 'attempt.setup.2000', op: '<=', ratio: 1.3, source: 'issue 5' },
  { id: 'attempt.setup.100', op: '<=', ratio: 1.3, source: 'issue 9 brief (issue 5 names the 2 000-file repo)' },
  { id: 'attempt.setup.2000.pool', op: '<', value: 150, source: 'issue 5' },
  { id: 'attempt.setup.2000.shm', op: '<', value: 150, source: 'issue 5' },
  { id: 'attempt.cancel.sigkill', op: '<=', ratio: 1, source: 'issue 5 (grace + 200 ms)' },
  { id: 'attempt.cancel.sigterm', op: '<=', ratio: 1, source: 'issue 5 (grace + 200 ms)' },
  { pattern: /append.*(rate|events\/s|per second)|events?\/s.*append/i, op: '>=', value: 20000, source: 'issue 4' },
  { pattern: /events\.list.*(1[ _,]?000[ _,]?000|1M).*p50|last 50.*p50/i, op: '<', value: 1, source: 'issue 4' },
  { pattern: /idle rss|rss.*idle/i, exclude: /connector/i, op: '<', value: 100, source: 'issue 4' },
  { pattern: /1[ _,]?000 (idle )?connectors.*rss|rss.*1[ _,]?000/i, op: '<', value: 300, source: 'issue 6' },
  { pattern: /mcp.*p50/i, exclude: /api\/v2|vs|overhead/i, op: '<', value: 6, source: 'issue 6' },
  { pattern: /attempt setup.*2[ _,]?000.*(fast|tmpfs|reuse|pool)/i, op: '<', value: 150, source: 'issue 5' },
  { pattern: /attempt setup.*2[ _,]?000/i, op: '<=', ratio: 1.3, source: 'issue 5' },
  { pattern: /cancel/i, op: '<=', ratio: 1, source: 'issue 5 (grace + 200 ms)' },
];

/**
 * The target that applies to a figure, or undefined. A module may also set `target` on the figure itself.
 * Raw baselines (`raw.*`) are never matched by pattern: they are the floor, not a goal.
 */
export function targetFor(fig) {
  if (fig.target && typeof fig.target === 'object') return fig.target;
  for (const t of TARGETS) {
    if (String(fig.id).startsWith('raw.') && t.id === undefined) continue;
    if (t.id !== undefined) {
      if (t.id === fig.id) return t;
      continue;
    }
    if (t.pattern.test(fig.figure ?? '') && !(t.exclude && t.exclude.test(fig.figure ?? ''))) return t;
  }
  return undefined;
}

/** Human text of a target, e.g. "< 6 ms" or "≤ 1.3× baseline". */
export function targetText(t, unit) {
  const op = { '<': '<', '<=': '≤', '>': '>', '>=': '≥' }[t.op] ?? t.op;
  return t.ratio !== undefined ? `${op} ${t.ratio}× baseline` : `${op} ${t.value} ${unit}`;
}

/** true when the figure meets the target, false when it misses, null when it cannot be judged. */
export function meets(t, value, baseline) {
  const x = t.ratio !== undefined ? (Number.isFinite(baseline) && baseline !== 0 ? value / baseline : NaN) : value;
  const y = t.ratio !== undefined ? t.ratio : t.value;
  if (!Number.isFinite(x)) return null;
  switch (t.op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    default:
      return null;
  }
}
