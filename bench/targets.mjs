/**
 * The goal each figure is held to, in the goal's own words. A target is absolute (`value`, in the figure's unit)
 * or relative to the figure's baseline (`ratio`). Figures are matched by `id`; a module may also set `target` on
 * a figure itself.
 */
export const TARGETS = [
  { id: 'relay.hop.added-p50', op: '<', value: 0.5, goal: 'the relay hop adds under 0.5 ms at p50' },
  { id: 'relay.hop.added-p99', op: '<', value: 2, goal: 'the relay hop adds under 2 ms at p99' },
  { id: 'relay.rps', op: '>=', value: 5000, goal: 'one connector carries at least 5 000 calls a second' },
  { id: 'mcp.call.p50', op: '<', value: 6, goal: 'an MCP tool call answers within 6 ms at p50' },
  { id: 'relay.fake-connector.mcp.p50', op: '<', value: 6, goal: 'an MCP tool call answers within 6 ms at p50' },
  { id: 'relay.idle-connectors.rss', op: '<', value: 300, goal: '1 000 idle connectors fit in 300 MB of relay memory' },
  { id: 'daemon.event-append.group', op: '>=', value: 20000, goal: 'the ledger appends at least 20 000 events a second' },
  { id: 'daemon.events-list.last50-p50', op: '<', value: 1, goal: 'the last 50 events of a run at 1M events read within 1 ms' },
  { id: 'daemon.idle-rss', op: '<', value: 100, goal: 'an idle daemon stays under 100 MB' },
  { id: 'daemon.idle-rss.stack', op: '<', value: 100, goal: 'an idle daemon stays under 100 MB' },
  { id: 'attempt.setup.2000', op: '<=', ratio: 1.3, goal: 'attempt setup within 1.3 x raw git worktree add (2 000 files)' },
  { id: 'attempt.setup.100', op: '<=', ratio: 1.3, goal: 'attempt setup within 1.3 x raw git worktree add (100 files)' },
  { id: 'attempt.setup.2000.pool', op: '<', value: 150, goal: 'attempt setup under 150 ms with the fast option (2 000 files)' },
  { id: 'attempt.setup.2000.shm', op: '<', value: 150, goal: 'attempt setup under 150 ms with the fast option (2 000 files)' },
  { id: 'sandbox.added', op: '<', value: 50, goal: 'the sandbox adds under 50 ms per attempt process' },
  { id: 'attempt.cancel.sigkill', op: '<=', ratio: 1, goal: 'cancel recorded within the grace period + 200 ms' },
  { id: 'attempt.cancel.sigterm', op: '<=', ratio: 1, goal: 'cancel recorded within the grace period + 200 ms' },
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
