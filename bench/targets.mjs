/**
 * The goals each figure is held to, taken from the issues (relay: issue 6, daemon ledger: issue 4, daemon
 * execution: issue 5). A target is absolute (`value`, in the figure's unit) or relative to the figure's baseline
 * (`ratio`). Figures are matched by `id`; a module may also set `target` on a figure itself.
 */
export const TARGETS = [
  { id: 'relay.hop.added-p50', op: '<', value: 0.5, source: 'issue 6' },
  { id: 'relay.hop.added-p99', op: '<', value: 2, source: 'issue 6' },
  { id: 'relay.rps', op: '>=', value: 5000, source: 'issue 6' },
  { id: 'mcp.call.p50', op: '<', value: 6, source: 'issue 6' },
  { id: 'relay.fake-connector.mcp.p50', op: '<', value: 6, source: 'issue 6' },
  { id: 'relay.idle-connectors.rss', op: '<', value: 300, source: 'issue 6' },
  { id: 'daemon.event-append.group', op: '>=', value: 20000, source: 'issue 4' },
  { id: 'daemon.events-list.last50-p50', op: '<', value: 1, source: 'issue 4' },
  { id: 'daemon.idle-rss', op: '<', value: 100, source: 'issue 4' },
  { id: 'daemon.idle-rss.stack', op: '<', value: 100, source: 'issue 4' },
  { id: 'attempt.setup.2000', op: '<=', ratio: 1.3, source: 'issue 5' },
  { id: 'attempt.setup.100', op: '<=', ratio: 1.3, source: 'issue 9 brief (issue 5 names the 2 000-file repo)' },
  { id: 'attempt.setup.2000.pool', op: '<', value: 150, source: 'issue 5' },
  { id: 'attempt.setup.2000.shm', op: '<', value: 150, source: 'issue 5' },
  { id: 'attempt.cancel.sigkill', op: '<=', ratio: 1, source: 'issue 5 (grace + 200 ms)' },
  { id: 'attempt.cancel.sigterm', op: '<=', ratio: 1, source: 'issue 5 (grace + 200 ms)' },
];

/** The target that applies to a figure, or undefined. */
export function targetFor(fig) {
  if (fig.target && typeof fig.target === 'object') return fig.target;
  return TARGETS.find((t) => t.id === fig.id);
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
