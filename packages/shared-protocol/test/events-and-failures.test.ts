import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTEMPT_FAILURE_CODES, Attempt, Event, EVENT_TYPES, isKnownEventType, isKnownFailureCode, KnownEvent, VERBS } from '../src/index.js';

const RUN = 'run_01JABCDEFGHJKMNPQRSTVWXYZ0';
const STEP = 'stp_01JABCDEFGHJKMNPQRSTVWXYZ0';
const ATT = 'att_01JABCDEFGHJKMNPQRSTVWXYZ0';
const base = { cursor: 3, runId: RUN, stepId: STEP, attemptId: ATT, actor: 'system:engine', at: '2026-12-01T10:00:00.000Z' };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('attempt failure codes', () => {
  it('every failureCode literal the daemon writes (as a field or through the engine\'s failed()) is in the closed list', () => {
    const dir = new URL('../../daemon/src', import.meta.url).pathname;
    const written = new Set<string>();
    for (const f of sources(dir)) for (const m of readFileSync(f, 'utf8').matchAll(/(?:failureCode: |failed\()'([A-Z_]+)'/g)) written.add(m[1]!);
    expect(written.size).toBeGreaterThan(10);
    expect([...written].filter((c) => !isKnownFailureCode(c))).toEqual([]);
  });

  it('a reader keeps a failure code it does not know and refuses one that is not code-shaped', () => {
    const attempt = {
      attemptId: ATT, stepId: STEP, runId: RUN, number: 1, state: 'failed', executor: 'sim', branch: 'b', baseCommit: 'c', commit: null,
      exitCode: 1, summary: null, changedFiles: null, startedAt: null, endedAt: null, createdAt: base.at, updatedAt: base.at,
    };
    expect(Attempt.parse({ ...attempt, failureCode: 'QUOTA_EXHAUSTED_IN_2027' }).failureCode).toBe('QUOTA_EXHAUSTED_IN_2027');
    expect(isKnownFailureCode('QUOTA_EXHAUSTED_IN_2027')).toBe(false);
    expect(Attempt.safeParse({ ...attempt, failureCode: 'rm -rf /' }).success).toBe(false);
    expect(ATTEMPT_FAILURE_CODES).toContain('EXECUTOR_FAILED');
  });
});

describe('event payloads', () => {
  it('checks the payload of a known type, and still keeps a known type whose payload is an older shape', () => {
    const ok = { ...base, type: 'attempt.log', data: { lines: [{ stream: 'stdout', text: 'hi' }] } };
    expect(KnownEvent.parse(ok).type).toBe('attempt.log');
    const older = { ...ok, data: { line: 'hi' } };
    expect(KnownEvent.safeParse(older).success).toBe(false);
    expect(Event.parse(older)).toEqual(older);
  });

  it('keeps an event of a type from a newer daemon as it is, payload and all', () => {
    const future = { ...base, type: 'attempt.progress', data: { percent: 40, note: 'halfway' } };
    expect(isKnownEventType(future.type)).toBe(false);
    expect(Event.parse(future)).toEqual(future);
    const page = VERBS['events.list'].output.parse({ events: [future], nextCursor: 3 });
    expect(page.events[0]).toEqual(future);
  });

  it('keeps a field a newer daemon adds to a known payload', () => {
    const e = { ...base, type: 'run.head_moved', data: { from: 'a', to: 'b', by: 'fast-forward' } };
    expect(Event.parse(e).data).toEqual({ from: 'a', to: 'b', by: 'fast-forward' });
  });

  it('still refuses a type that is not dotted lowercase', () => {
    expect(Event.safeParse({ ...base, type: 'Not A Type', data: {} }).success).toBe(false);
    expect(EVENT_TYPES).toContain('gate.created');
  });
});
