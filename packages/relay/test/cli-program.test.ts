import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { SqliteRelayStore } from '../src/index.js';

const COMMANDS = [
  [],
  ['start'],
  ['org'],
  ['org', 'create'],
  ['org', 'list'],
  ['token'],
  ['token', 'create'],
  ['token', 'list'],
  ['token', 'revoke'],
  ['enroll-token'],
  ['enroll-token', 'create'],
  ['instance'],
  ['instance', 'list'],
  ['instance', 'disable'],
  ['instance', 'enable'],
  ['instance', 'revoke'],
  ['oauth'],
  ['oauth', 'revoke-subject'],
  ['oauth', 'restore-subject'],
  ['oauth', 'list-revoked'],
  ['oauth', 'clients'],
  ['oauth', 'clients', 'list'],
  ['oauth', 'clients', 'revoke'],
  ['oauth', 'grants'],
  ['oauth', 'grants', 'list'],
  ['oauth', 'grants', 'revoke'],
  ['admin'],
  ['admin', 'create'],
  ['admin', 'list'],
  ['audit'],
  ['audit', 'verify'],
];

describe('runCli (in process)', () => {
  let dir: string;
  let out: string;
  let err: string;
  const run = (...argv: string[]) => runCli(argv, { env: { SLUICE_RELAY_HOME: dir }, out: (s) => (out += s), err: (s) => (err += s) });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-relay-cli-'));
    out = '';
    err = '';
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(COMMANDS)('`%s --help` prints its usage and exits 0', async (...path: string[]) => {
    expect(await run(...path, '--help')).toBe(0);
    expect(out).toMatch(new RegExp(`^Usage: sluice-relay ${path.join(' ')}`));
  });

  it('works on the database of SLUICE_RELAY_HOME, answers the exit code and writes errors as `error CODE: message`', async () => {
    expect(await run('--json', 'org', 'create', 'acme')).toBe(0);
    const { orgId } = JSON.parse(out) as { orgId: string };
    const store = new SqliteRelayStore(join(dir, 'relay.db'));
    expect((await store.listOrgs()).map((o) => o.id)).toEqual([orgId]);
    await store.flushAudit();
    expect(await store.verifyAudit()).toMatchObject({ ok: true, rows: 1 });
    await store.close();
    expect(await run('instance', 'revoke', 'ins_01JD0000000000000000000000')).toBe(1);
    expect(err).toBe('error INSTANCE_NOT_FOUND: No such instance.\n');
    expect(await run('no-such-command')).toBe(1);
  });
});
