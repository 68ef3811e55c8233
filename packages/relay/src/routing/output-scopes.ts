import { hasScope } from '@sluice/shared-protocol';

/** Event types whose data carries executor output, the same text the stdout/stderr artifacts hold. */
const OUTPUT_EVENTS = new Set(['attempt.log']);
const WITHHELD = 'executor output needs the artifacts:read scope';

type EventData = Record<string, unknown>;

function withoutOutput(data: EventData): EventData {
  const { lines, line: _line, text: _text, ...rest } = data;
  const streams = Array.isArray(lines) ? lines.map((l) => ({ stream: (l as { stream?: unknown }).stream })) : undefined;
  return { ...rest, ...(streams ? { lines: streams } : {}), withheld: WITHHELD };
}

/**
 * Strip from a verb's output what the caller's scopes do not cover beyond the verb's own scope: `runs:read`
 * follows a run, but executor output is `artifacts:read`, so `attempt.log` events keep their streams and lose
 * their text (and say so) for a caller without it. One place for the /api/v2 routes, the SSE follow and MCP,
 * which all come through the dispatcher.
 */
export function withinScopes(verb: string, output: unknown, scopes: readonly string[]): unknown {
  if (verb !== 'events.list' || hasScope(scopes, 'artifacts:read')) return output;
  const page = output as { events: { type: string; data: EventData }[] };
  return { ...page, events: page.events.map((e) => (OUTPUT_EVENTS.has(e.type) ? { ...e, data: withoutOutput(e.data) } : e)) };
}
