import { PROTOCOL_INPUT_DEFAULTS } from './input-defaults.js';
import type { VerbName } from './verbs.js';

/**
 * What an omitted field of a verb input means, where the protocol fixes it. Values only the daemon knows (an
 * executor's own timeout, a workspace's approval policy) are not protocol defaults: naming them is a different request.
 */
export const VERB_INPUT_DEFAULTS: Readonly<Partial<Record<VerbName, Readonly<Record<string, unknown>>>>> = PROTOCOL_INPUT_DEFAULTS;

/** Fields that name a request rather than describe it; they are left out of its canonical form. */
const NOT_PART_OF_THE_REQUEST = new Set(['idempotencyKey']);

/**
 * The canonical form of a parsed verb input: protocol defaults filled in, the idempotency key left out, object keys
 * sorted at every level. Two inputs are "the same request" exactly when their canonical forms are equal; the relay
 * and the daemon both judge idempotent retries by it.
 */
export function canonicalVerbInput(verb: VerbName, input: Readonly<Record<string, unknown>>): string {
  const filled: Record<string, unknown> = { ...VERB_INPUT_DEFAULTS[verb] };
  for (const [k, v] of Object.entries(input)) if (v !== undefined && !NOT_PART_OF_THE_REQUEST.has(k)) filled[k] = v;
  return JSON.stringify(sortKeys(filled));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
