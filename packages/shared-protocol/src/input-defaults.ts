/**
 * What an omitted field of a verb input means, where the protocol fixes it, keyed by verb name. The verb table
 * publishes these as schema defaults and `VERB_INPUT_DEFAULTS` (verb-input.ts) types them by verb; this file
 * imports nothing so the table can read it while it is being built.
 */
export const PROTOCOL_INPUT_DEFAULTS = {
  'runs.open': { baseRef: 'HEAD' },
  'runs.list': { limit: 20 },
  'steps.dispatch': { validations: [], approval: false, attempts: 1 },
  'gates.list': { status: 'all' },
  'artifacts.get': { offset: 0 },
  'events.list': { after: 0, limit: 100 },
} as const satisfies Readonly<Record<string, Readonly<Record<string, unknown>>>>;
