import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { buildRelay, SqliteRelayStore } from '../src/index.js';
import { verifyPassword } from '../src/oauth/admin-password.js';

describe('the built-in authorization server from the CLI and the admin API', () => {
  let dir: string;
  let out: string;
  let err: string;
  const run = async (...argv: string[]) => {
    out = '';
    err = '';
    const code = await runCli(argv, { env: { SLUICE_RELAY_HOME: dir, ADMIN_PW: 'a long enough password' }, out: (s) => (out += s), err: (s) => (err += s) });
    return { code, json: code === 0 && argv.includes('--json') ? (JSON.parse(out) as Record<string, unknown>) : undefined };
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-relay-oauth-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates admins (scrypt hash only), lists and revokes grants and clients, as JSON', async () => {
    const orgId = String((await run('--json', 'org', 'create', 'acme')).json!.orgId);
    const generated = await run('--json', 'admin', 'create', 'alice', '--org', orgId);
    expect(String(generated.json!.password)).toHaveLength(24);
    const given = await run('--json', 'admin', 'create', 'bob', '--org', orgId, '--scopes', 'runs:read', '--password-env', 'ADMIN_PW');
    expect(given.json).not.toHaveProperty('password');
    expect((await run('admin', 'create', 'carol', '--org', 'org_01JD0000000000000000000000')).code).toBe(1);
    expect((await run('admin', 'create', 'alice', '--org', orgId)).code).toBe(1);

    const store = new SqliteRelayStore(join(dir, 'relay.db'));
    const bob = (await store.findAdminAccount('bob'))!;
    expect(bob.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(bob.passwordHash).not.toContain('a long enough password');
    expect(await verifyPassword('a long enough password', bob.passwordHash)).toBe(true);
    const clientId = 'https://client.example/c.json';
    await store.createOAuthGrant({ id: 'grant-1', orgId, clientId, clientName: 'Client', scopes: ['runs:read'], instanceAllowlist: null, approvedBy: bob.id });
    await store.createOAuthGrant({ id: 'grant-2', orgId, clientId, clientName: 'Client', scopes: ['runs:read'], instanceAllowlist: null, approvedBy: bob.id });
    const token = await store.createToken({ orgId, name: 'admin', scopes: ['admin'] });
    await store.close();

    expect((await run('--json', 'oauth', 'grants', 'list')).json!.grants).toHaveLength(2);
    expect((await run('--json', 'oauth', 'grants', 'revoke', 'grant-1')).json).toMatchObject({ grantId: 'grant-1', changed: true });
    expect((await run('--json', 'oauth', 'grants', 'revoke', 'grant-1')).json).toMatchObject({ changed: false });
    expect((await run('oauth', 'grants', 'revoke', 'nope')).code).toBe(1);
    expect(err).toContain('NOT_FOUND');
    expect((await run('--json', 'oauth', 'clients', 'list')).json!.clients).toEqual([expect.objectContaining({ clientId, kind: 'metadata-document', grants: 1, revoked: false })]);

    // The admin API answers the same for the org's admin token.
    const store2 = new SqliteRelayStore(join(dir, 'relay.db'));
    const relay = await buildRelay({ store: store2, logger: pino({ level: 'silent' }) }, { oauthServer: {} });
    try {
      const h = { authorization: `Bearer ${token.secret}` };
      const grants = (await relay.app.inject({ method: 'GET', url: '/api/v2/admin/oauth/grants', headers: h })).json<{ grants: { id: string; revokedAt: string | null }[] }>();
      expect(grants.grants.map((g) => [g.id, g.revokedAt !== null])).toEqual([['grant-1', true], ['grant-2', false]]);
      const revoked = await relay.app.inject({ method: 'POST', url: '/api/v2/admin/oauth/clients/revoke', headers: h, payload: { clientId } });
      expect(revoked.json()).toMatchObject({ clientId, grantsRevoked: 1 });
      expect((await relay.app.inject({ method: 'POST', url: '/api/v2/admin/oauth/grants/grant-2/revoke', headers: h })).json()).toMatchObject({ changed: false });
    } finally {
      await relay.close();
      await store2.close();
    }
    expect((await run('--json', 'oauth', 'clients', 'revoke', clientId)).json).toMatchObject({ revoked: true, grantsRevoked: 0 });
    expect((await run('--json', 'oauth', 'clients', 'list')).json!.clients).toEqual([expect.objectContaining({ clientId, grants: 0, revoked: true })]);
  });
});
