import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { VERBS, type VerbSpec } from '../src/index.js';

interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

/** Every property path of an input schema (nested objects and array items too) that has no description. */
function undescribed(schema: JsonSchema, path: string): string[] {
  const own = Object.entries(schema.properties ?? {}).flatMap(([k, p]) => [
    ...(p.description ? [] : [`${path}.${k}`]),
    ...undescribed(p, `${path}.${k}`),
    ...(p.items ? undescribed(p.items, `${path}.${k}[]`) : []),
  ]);
  return own;
}

describe('verb descriptions for a planner', () => {
  const specs = Object.values(VERBS) as VerbSpec[];

  it('every input property of every verb has a description', () => {
    const missing = specs.flatMap((v) => undescribed(z.toJSONSchema(v.input, { io: 'input' }) as JsonSchema, v.name));
    expect(missing).toEqual([]);
  });

  it('every verb says what to call next or when to call it, in more than one sentence', () => {
    const terse = specs.filter((v) => v.description.split('. ').length < 2 || !/(call|next|then|use it)/i.test(v.description)).map((v) => v.name);
    expect(terse).toEqual([]);
  });

  it('publishes the protocol defaults in the schema without applying them when parsing', () => {
    const dispatch = z.toJSONSchema(VERBS['steps.dispatch'].input, { io: 'input' }) as JsonSchema & { properties: Record<string, { default?: unknown }> };
    expect(dispatch.properties.attempts?.default).toBe(1);
    expect(dispatch.properties.approval?.default).toBe(false);
    const parsed = VERBS['steps.dispatch'].input.parse({ runId: 'run_0123456789ABCDEFGHJKMNPQRS', executor: 'sim', task: 'x' });
    expect(parsed).not.toHaveProperty('attempts');
    expect((z.toJSONSchema(VERBS['gates.list'].input, { io: 'input' }) as { properties: Record<string, { default?: unknown }> }).properties.status?.default).toBe('all');
  });

  it('steps.dispatch says the task goes to the executor as is and where its language is described', () => {
    const d = VERBS['steps.dispatch'];
    expect(d.description).toMatch(/exactly as written/);
    expect(d.description).toMatch(/`task` description in workspaces_describe/);
  });
});
