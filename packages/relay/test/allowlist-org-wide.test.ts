import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeConnector } from '@sluice/test-kit';
import { connectedConnector, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

describe('tokens limited to some instances and the org-wide routes', () => {
  let t: TestRelay;
  let orgId: string;
  let c: FakeConnector;
  beforeEach(async () => {
    t = await startRelay();
    orgId = (await t.store.createOrg('acme')).id;
    c = await connectedConnector(t, orgId);
  });
  afterEach(async () => {
    c.close();
    await t.close();
  });

  /** A token made before allowlists and org-wide scopes were kept apart (written straight into the table). */
  async function legacyLimitedToken(): Promise<string> {
    const { record, secret } = await t.store.createToken({ orgId, name: 'old', scopes: ['admin'] });
    t.store.db.prepare('UPDATE tokens SET instance_allowlist = ? WHERE id = ?').run(JSON.stringify([c.instanceId]), record.id);
    return secret;
  }

  it('an allowlisted token is refused on the admin routes and /api/v2/audit, and changes nothing', async () => {
    const token = await legacyLimitedToken();
    const auth = { authorization: `Bearer ${token}` };
    const answers = await Promise.all([
      fetch(`${t.url}/api/v2/admin/sessions`, { headers: auth }),
      fetch(`${t.url}/api/v2/admin/tokens/revoke-all`, { method: 'POST', headers: auth }),
      fetch(`${t.url}/api/v2/admin/instances/${c.instanceId}/disable`, { method: 'POST', headers: auth }),
      fetch(`${t.url}/api/v2/audit`, { headers: auth }),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect((await res.json()) as { code: string; message: string }).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringMatching(/limited to some instances/) as unknown });
    }
    expect((await t.store.listTokens(orgId)).every((r) => r.revokedAt === null)).toBe(true);
    expect((await t.store.getInstance(c.instanceId))?.state).toBe('active');
    // The same scopes without an allowlist work.
    const full = (await t.store.createToken({ orgId, name: 'full', scopes: ['admin'] })).secret;
    expect((await fetch(`${t.url}/api/v2/admin/sessions`, { headers: { authorization: `Bearer ${full}` } })).status).toBe(200);
    expect((await fetch(`${t.url}/api/v2/audit`, { headers: { authorization: `Bearer ${full}` } })).status).toBe(200);
  });

  it('such a token cannot be created', async () => {
    for (const scopes of [['admin'], ['audit:read'], ['runs:read', 'audit:read']] as const) {
      await expect(t.store.createToken({ orgId, name: 'x', scopes: [...scopes], instanceAllowlist: [c.instanceId] })).rejects.toThrow(/limited to some instances/);
    }
    expect((await t.store.createToken({ orgId, name: 'ok', scopes: ['runs:read', 'runs:write'], instanceAllowlist: [c.instanceId] })).record.instanceAllowlist).toEqual([c.instanceId]);
  });
});
