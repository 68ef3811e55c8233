import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

describe('instance names at enrollment', () => {
  let t: TestRelay;
  let orgId: string;
  beforeEach(async () => {
    t = await startRelay();
    orgId = t.store.createOrg('acme').id;
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses bidi overrides, isolates, zero-width and blank names, and keeps the enrollment token unused', async () => {
    const bad = ['laptop\u202Egnp.exe', 'lap\u2066top\u2069', 'lap\u200Btop', 'lap\u200Dtop', '\uFEFFlaptop', 'lap\u2060top', 'lap\u200Ftop', '   '];
    const enr = t.store.createEnrollmentToken(orgId, 60_000);
    for (const name of bad) {
      const res = await new FakeConnector(t.url).enroll(enr.secret, name);
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_INPUT');
    }
    expect(t.store.listInstances(orgId)).toHaveLength(0);
    const ok = await new FakeConnector(t.url).enroll(enr.secret, 'Ana’s laptop — ünïcode ok');
    expect(ok.status).toBe(200);
    expect(t.store.listInstances(orgId).map((i) => i.name)).toEqual(['Ana’s laptop — ünïcode ok']);
  });
});
