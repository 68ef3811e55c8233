import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '@sluice/test-kit';
import { callVerb, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

const INTERVAL = 60_000;

describe('audit rows of refusals anyone can provoke', () => {
  let t: TestRelay;
  let clock = Date.now();
  beforeEach(async () => {
    clock = Date.now();
    t = await startRelay({ auditRefusalIntervalMs: INTERVAL }, { now: () => clock });
  });
  afterEach(async () => {
    await t.close();
  });

  const rows = async (action: string) => {
    await t.store.flushAudit();
    return (t.store.db.prepare('SELECT outcome, target, detail FROM audit WHERE action = ? ORDER BY seq').all(action) as { outcome: string; target: string; detail: string }[]).map((r) => ({
      outcome: r.outcome,
      target: r.target,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  };

  it('one row per reason and source per interval, the repeats counted into one row when the interval ends', async () => {
    for (let i = 0; i < 50; i++) expect((await callVerb(t.url, `not-a-token-${i}`, `runs.get`, { runId: 'x' })).status).toBe(401);
    for (let i = 0; i < 20; i++) await callVerb(t.url, undefined, 'instances.list', {});
    for (let i = 0; i < 10; i++) expect((await new FakeConnector(t.url).enroll(`slc_enr_forged${i}`)).status).toBe(401);
    expect((await rows('auth.failed')).map((r) => r.outcome)).toEqual(['TOKEN_MALFORMED', 'UNAUTHENTICATED']);
    expect(await rows('connector.enroll')).toHaveLength(1);

    clock += INTERVAL;
    await callVerb(t.url, 'not-a-token-again', 'runs.get', { runId: 'x' });
    const auth = await rows('auth.failed');
    expect(auth.map((r) => [r.outcome, r.detail.repeats])).toEqual([
      ['TOKEN_MALFORMED', undefined],
      ['UNAUTHENTICATED', undefined],
      ['TOKEN_MALFORMED', 49],
      ['TOKEN_MALFORMED', undefined],
    ]);
    expect(auth[2]!.detail).toMatchObject({ since: expect.any(String) as unknown, until: expect.any(String) as unknown });

    // Closing the relay writes the counts of the windows still open.
    await t.relay.close();
    expect((await rows('auth.failed')).map((r) => [r.outcome, r.detail.repeats]).slice(4)).toEqual([['UNAUTHENTICATED', 19]]);
    expect((await rows('connector.enroll')).map((r) => r.detail.repeats)).toEqual([undefined, 9]);
  });
});
