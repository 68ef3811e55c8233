import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshPgDatabase, rawQuery } from '@sluice/test-kit';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('sluice-relay CLI on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  beforeEach(async () => {
    db = await freshPgDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('refuses a URL with a password in argv, naming where the password goes instead', () => {
    const u = new URL(db.url);
    u.password = 'hunter2-secret';
    const r = cli(['--db', u.toString(), 'org', 'list']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error BAD_REQUEST: .*password.*PGPASSFILE.*PGPASSWORD/);
    expect(r.err).not.toContain('hunter2-secret');
    expect(cli(['--db', `${db.url}?password=hunter2-secret`, 'org', 'list']).code).toBe(1);
  });

  it('creates orgs and verifies the audit chain against the database named by --db or SLUICE_RELAY_DB', () => {
    expect(cli(['--db', db.url, 'org', 'create', 'acme']).code).toBe(0);
    expect(cli(['org', 'create', 'beta'], { SLUICE_RELAY_DB: db.url }).code).toBe(0);
    const orgs = JSON.parse(cli(['--db', db.url, '--json', 'org', 'list']).out) as { orgs: { name: string }[] };
    expect(orgs.orgs.map((o) => o.name)).toEqual(['acme', 'beta']);
    const v = cli(['--db', db.url, 'audit', 'verify']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/audit ok: \d+ rows, chain intact/);
  });

  it('exits 2 from audit verify when a row was changed, and refuses a database from newer code', async () => {
    expect(cli(['--db', db.url, 'org', 'create', 'acme']).code).toBe(0);
    await rawQuery(db.url, "ALTER TABLE audit DISABLE TRIGGER audit_no_update; UPDATE audit SET outcome = 'forged'");
    expect(cli(['--db', db.url, 'audit', 'verify']).code).toBe(2);
    await rawQuery(db.url, "INSERT INTO relay_schema (version, name, applied_at) SELECT max(version) + 1, 'future', 0 FROM relay_schema");
    const r = cli(['--db', db.url, 'org', 'list']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/STORE_TOO_NEW: the relay database has schema version \d+, newer than this build understands/);
  });
});
