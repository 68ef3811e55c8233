import { describe, expect, it } from 'vitest';
import { LIMITS, VERBS, VERB_NAMES, SCOPES, canonicalVerbInput, getVerb, isVerbName, ownedIdsOf, verbForTool } from '@sluice/shared-protocol';
import type { VerbName, VerbSpec } from '@sluice/shared-protocol';

const RUN = 'run_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';
const STEP = 'stp_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';
const ATT = 'att_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';
const GATE = 'gat_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';
const INS = 'ins_01JDQ4Z8X9V7T6S5R4Q3P2N1M0';
const DIGEST = 'sha256:' + 'a'.repeat(64);

/** One valid input per verb: every verb must have one (the test below fails for a verb added without it). */
const VALID: Record<VerbName, unknown> = {
  'instances.list': {},
  'runs.open': { workspaceId: 'web-app', instanceId: INS, baseRef: 'main', title: 'Fix the failing test' },
  'runs.get': { runId: RUN },
  'runs.diff': { runId: RUN },
  'workspaces.describe': { workspaceId: 'web' },
  'runs.list': { workspaceId: 'web-app', state: 'open', limit: 20 },
  'runs.close': { runId: RUN },
  'runs.abort': { runId: RUN, reason: 'planner changed its mind' },
  'steps.dispatch': { runId: RUN, executor: 'simulation', task: 'Fix add() in src/math.js', validations: ['test'], approval: true, timeoutMs: 60_000, attempts: 2, idempotencyKey: 'step-1' },
  'steps.get': { stepId: STEP },
  'steps.retry': { stepId: STEP },
  'steps.cancel': { stepId: STEP, reason: 'not needed' },
  'steps.wait': { stepId: STEP, timeoutMs: 30_000 },
  'attempts.get': { attemptId: ATT },
  'attempts.cancel': { attemptId: ATT },
  'gates.list': { runId: RUN, status: 'pending' },
  'gates.approve': { gateId: GATE, attemptId: ATT, reason: 'looks good' },
  'gates.reject': { gateId: GATE, reason: 'breaks the API' },
  'artifacts.list': { runId: RUN, attemptId: ATT },
  'artifacts.get': { runId: RUN, digest: DIGEST, offset: 0, length: LIMITS.artifactChunkBytes },
  'events.list': { runId: RUN, after: 10, limit: 100, waitMs: 30_000 },
};

function accepts(verb: VerbName, input: unknown): boolean {
  return VERBS[verb].input.safeParse(input).success;
}

describe('verb table invariants', () => {
  it('declares owned output ids, waits and idempotency keys by fields the schemas have', () => {
    const inputKeys = (v: VerbName) => Object.keys((VERBS[v].input as unknown as { shape: object }).shape);
    for (const v of VERB_NAMES) {
      const spec = VERBS[v] as VerbSpec;
      for (const path of spec.owns) expect(path, `${v} owns ${path}`).toMatch(/(^|\.)(runId|stepId|attemptId|gateId|candidates\[\])$/);
      if (spec.wait) expect(inputKeys(v)).toContain(spec.wait.field);
      if (spec.idempotency) {
        expect(inputKeys(v)).toContain(spec.idempotency.field);
        expect(spec.owns).toContain(spec.idempotency.answerField);
      }
    }
    expect(VERB_NAMES.filter((v) => (VERBS[v] as VerbSpec).wait)).toEqual(['steps.wait', 'events.list']);
    expect(VERB_NAMES.filter((v) => (VERBS[v] as VerbSpec).idempotency)).toEqual(['steps.dispatch']);
  });

  it('finds owned ids only at the declared paths', () => {
    const step = { stepId: STEP, task: RUN, attempts: [{ attemptId: ATT, summary: GATE }] };
    expect(ownedIdsOf(VERBS['steps.dispatch'] as VerbSpec, step)).toEqual([STEP, ATT]);
    expect(ownedIdsOf(VERBS['gates.list'] as VerbSpec, { gates: [{ gateId: GATE, candidates: [ATT], rule: RUN }] })).toEqual([GATE, ATT]);
    expect(ownedIdsOf(VERBS['artifacts.get'] as VerbSpec, { digest: RUN })).toEqual([]);
  });

  it('has unique verb names and MCP tool names that hosts accept', () => {
    const tools = VERB_NAMES.map((v) => VERBS[v].mcpName);
    expect(new Set(tools).size).toBe(VERB_NAMES.length);
    for (const v of VERB_NAMES) {
      expect(VERBS[v].name).toBe(v);
      expect(VERBS[v].mcpName).toBe(v.replace(/\./g, '_'));
      expect(VERBS[v].mcpName).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
      expect(verbForTool(VERBS[v].mcpName)?.name).toBe(v);
    }
  });

  it('gives every verb a known scope, a description, a title and consistent hints', () => {
    for (const v of VERB_NAMES) {
      const spec = VERBS[v];
      expect(SCOPES).toContain(spec.scope);
      expect(spec.description.length).toBeGreaterThan(10);
      expect(spec.title.length).toBeGreaterThan(3);
      if (spec.hints.readOnly) expect(spec.hints.destructive).toBe(false);
      if (spec.route.kind === 'owner') expect(Object.keys((spec.input as unknown as { shape: object }).shape)).toContain(spec.route.field);
    }
  });

  it('covers exactly the verbs of the design and no command, path or tunnel verb', () => {
    expect([...VERB_NAMES].sort()).toEqual(
      ['instances.list', 'workspaces.describe', 'runs.open', 'runs.get', 'runs.diff', 'runs.list', 'runs.close', 'runs.abort', 'steps.dispatch', 'steps.get', 'steps.retry', 'steps.cancel', 'steps.wait', 'attempts.get', 'attempts.cancel', 'gates.list', 'gates.approve', 'gates.reject', 'artifacts.list', 'artifacts.get', 'events.list'].sort(),
    );
    expect(VERB_NAMES.some((v) => /exec|shell|command|file|path|tunnel/i.test(v))).toBe(false);
  });

  it('does not treat prototype keys as verbs', () => {
    for (const n of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(isVerbName(n)).toBe(false);
      expect(getVerb(n)).toBeUndefined();
    }
  });
});

describe('verb input schemas', () => {
  it.each(VERB_NAMES)('%s accepts a valid example', (v) => {
    const r = VERBS[v].input.safeParse(VALID[v]);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });

  it.each(VERB_NAMES)('%s rejects unknown fields, non-objects and prototype pollution', (v) => {
    expect(accepts(v, { ...(VALID[v] as object), extra: 1 })).toBe(false);
    const polluted: unknown = { ...(JSON.parse('{"__proto__": {"admin": true}}') as object), ...(VALID[v] as object) };
    expect(accepts(v, polluted)).toBe(false);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(accepts(v, null)).toBe(false);
    expect(accepts(v, [])).toBe(false);
    expect(accepts(v, 'runs.get')).toBe(false);
  });

  it('rejects ids that are not strict', () => {
    for (const bad of ['', 'run_', 'run_short', `stp_${RUN.slice(4)}`, `${RUN} `, `${RUN}\n`, 'run_01JDQ4Z8X9V7T6S5R4Q3P2N1MI', '../run_01JDQ4Z8X9V7T6S5R4Q3P2N1M0', "run_01JDQ4Z8X9V7T6S5R4Q3P2N1M0' OR 1=1 --"]) {
      expect(accepts('runs.get', { runId: bad }), bad).toBe(false);
    }
    expect(accepts('runs.get', { runId: 42 })).toBe(false);
  });

  it('rejects names that are paths, too long or hide characters', () => {
    for (const bad of ['../x', '..', 'a/b', '/etc', '.hidden', 'a b', 'x'.repeat(65), 'ｗｅｂ', 'web\u202Eapp', '', '-rf', 'a..b']) {
      expect(accepts('runs.open', { workspaceId: bad }), bad).toBe(false);
      expect(accepts('steps.dispatch', { runId: RUN, executor: bad, task: 't' }), bad).toBe(false);
    }
    expect(accepts('runs.open', { workspaceId: 'x'.repeat(64) })).toBe(true);
  });

  it('bounds task text at 64 KiB of UTF-8 and refuses control and bidi-override characters', () => {
    const base = { runId: RUN, executor: 'simulation' };
    expect(accepts('steps.dispatch', { ...base, task: 'a'.repeat(LIMITS.taskBytes) })).toBe(true);
    expect(accepts('steps.dispatch', { ...base, task: 'a'.repeat(LIMITS.taskBytes + 1) })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, task: 'é'.repeat(LIMITS.taskBytes / 2 + 1) })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, task: '' })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, task: 'ok\u0000' })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, task: 'if (isAdmin) \u202E } \u2066' })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, task: 'multi\nline\ttask\r\n' })).toBe(true);
  });

  it('bounds attempts, timeouts, waits, page sizes and artifact reads', () => {
    const base = { runId: RUN, executor: 'simulation', task: 't' };
    expect(accepts('steps.dispatch', { ...base, attempts: 0 })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, attempts: 5 })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, attempts: 1.5 })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, timeoutMs: 10 })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, validations: Array.from({ length: 17 }, (_, i) => `v${i}`) })).toBe(false);
    expect(accepts('steps.dispatch', { ...base, idempotencyKey: 'a b' })).toBe(false);
    expect(accepts('events.list', { runId: RUN, waitMs: 30_001 })).toBe(false);
    expect(accepts('events.list', { runId: RUN, after: -1 })).toBe(false);
    expect(accepts('events.list', { runId: RUN, limit: 501 })).toBe(false);
    expect(accepts('steps.wait', { stepId: STEP, timeoutMs: 30_001 })).toBe(false);
    expect(accepts('runs.list', { limit: 101 })).toBe(false);
    expect(accepts('runs.list', { cursor: '../etc' })).toBe(false);
    expect(accepts('artifacts.get', { runId: RUN, digest: DIGEST, length: LIMITS.artifactChunkBytes + 1 })).toBe(false);
    expect(accepts('artifacts.get', { runId: RUN, digest: DIGEST, length: 0 })).toBe(false);
    expect(accepts('artifacts.get', { runId: RUN, digest: DIGEST, offset: -1 })).toBe(false);
    expect(accepts('artifacts.get', { runId: RUN, digest: 'sha256:' + 'A'.repeat(64) })).toBe(false);
    expect(accepts('artifacts.get', { runId: RUN, digest: '../../etc/passwd' })).toBe(false);
  });

  it('refuses option-looking or escaping base refs', () => {
    for (const bad of ['--upload-pack=x', '-x', 'a..b', 'refs/heads/x.lock', 'main@{1}', 'a//b', 'x/']) {
      expect(accepts('runs.open', { workspaceId: 'w', baseRef: bad }), bad).toBe(false);
    }
    for (const ok of ['main', 'release/1.2', 'v1.0.0', 'a1b2c3d']) expect(accepts('runs.open', { workspaceId: 'w', baseRef: ok })).toBe(true);
  });

  it('requires a reason to reject a gate', () => {
    expect(accepts('gates.reject', { gateId: GATE })).toBe(false);
    expect(accepts('gates.reject', { gateId: GATE, reason: '' })).toBe(false);
  });
});

describe('canonicalVerbInput', () => {
  it('fills in the protocol defaults, sorts keys and leaves the idempotency key out', () => {
    const omitted = canonicalVerbInput('steps.dispatch', { runId: 'run_1', executor: 'sim', task: 't', idempotencyKey: 'a' });
    const spelled = canonicalVerbInput('steps.dispatch', { validations: [], task: 't', attempts: 1, executor: 'sim', approval: false, runId: 'run_1', idempotencyKey: 'b', timeoutMs: undefined });
    expect(spelled).toBe(omitted);
    expect(omitted).toBe('{"approval":false,"attempts":1,"executor":"sim","runId":"run_1","task":"t","validations":[]}');
  });

  it('keeps what makes requests differ: values, and the order of validations', () => {
    const base = { runId: 'run_1', executor: 'sim', task: 't' };
    expect(canonicalVerbInput('steps.dispatch', { ...base, attempts: 2 })).not.toBe(canonicalVerbInput('steps.dispatch', base));
    expect(canonicalVerbInput('steps.dispatch', { ...base, validations: ['a', 'b'] })).not.toBe(canonicalVerbInput('steps.dispatch', { ...base, validations: ['b', 'a'] }));
    expect(canonicalVerbInput('runs.get', { runId: 'run_1' })).toBe('{"runId":"run_1"}');
  });
});
