import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderErrorsMarkdown, SqliteRelayStore, StoreTooNewError } from '../src/index.js';
import { isWellFormedSecret } from '../src/index.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

function cli(db: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8', shell: false });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('sluice-relay CLI', () => {
  let dir: string;
  let db: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-relay-cli-'));
    db = join(dir, 'relay.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an org, a token shown once, an enrollment token; lists and revokes; --json everywhere', () => {
    const org = JSON.parse(cli(db, '--json', 'org', 'create', 'acme').out) as { orgId: string };
    expect(org.orgId).toMatch(/^org_/);
    const tok = JSON.parse(cli(db, '--json', 'token', 'create', '--org', org.orgId, '--name', 'ci', '--scopes', 'runs:read,runs:write', '--expires-in', '30d').out) as {
      tokenId: string;
      token: string;
    };
    expect(isWellFormedSecret('planner', tok.token)).toBe(true);
    const listed = cli(db, '--json', 'token', 'list', '--org', org.orgId).out;
    expect(listed).toContain(tok.tokenId);
    expect(listed).not.toContain(tok.token);
    expect(cli(db, 'token', 'revoke', tok.tokenId).code).toBe(0);
    expect((JSON.parse(cli(db, '--json', 'token', 'list').out) as { tokens: { revokedAt: string | null }[] }).tokens[0]!.revokedAt).not.toBeNull();
    const enr = JSON.parse(cli(db, '--json', 'enroll-token', 'create', '--org', org.orgId, '--ttl-minutes', '5').out) as { token: string };
    expect(isWellFormedSecret('enrollment', enr.token)).toBe(true);
    const bad = cli(db, 'token', 'create', '--org', org.orgId, '--name', 'x', '--scopes', 'root');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('INVALID_INPUT');
    expect(cli(db, 'instance', 'revoke', 'ins_01JD0000000000000000000000').err).toContain('INSTANCE_NOT_FOUND');
    expect(cli(db, 'token', 'create', '--help').out).toContain('--scopes');
  });

  it('refuses plain HTTP on a non-loopback address', () => {
    const r = cli(db, 'start', '--host', '0.0.0.0', '--port', '0');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('--allow-insecure-http');
  });

  it('audit verify passes an intact chain and finds an edit, a deletion, an insertion and a deleted tail made with plain SQL', async () => {
    const store = new SqliteRelayStore(db);
    const org = await store.createOrg('acme');
    for (let i = 0; i < 6; i++) await store.appendAudit({ orgId: org.id, actor: 'system:test', action: 'test.row', outcome: 'ok', detail: { i } });
    await store.close();
    expect(cli(db, 'audit', 'verify')).toMatchObject({ code: 0 });
    const tamper = (sql: string): { code: number; out: string } => {
      const copy = join(dir, `t-${Math.random()}.db`);
      const src = new Database(db);
      src.pragma('wal_checkpoint(TRUNCATE)');
      src.close();
      const bytes = readFileSync(db);
      copyDb(copy, bytes);
      const d = new Database(copy);
      // What someone with plain sqlite3 can do: drop the guard triggers, then edit.
      d.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
      d.exec(sql);
      d.close();
      return cli(copy, '--json', 'audit', 'verify');
    };
    const edited = tamper("UPDATE audit SET outcome = 'denied' WHERE seq = 3");
    expect(edited.code).toBe(2);
    expect(edited.out).toContain('hash_mismatch');
    expect(tamper('DELETE FROM audit WHERE seq = 2').out).toContain('chain_broken');
    const inserted = tamper("INSERT INTO audit (seq, at, org_id, actor, action, target, outcome, ip, detail, prev_hash, hash) SELECT 100, at, org_id, actor, action, target, outcome, ip, detail, hash, hash FROM audit WHERE seq = 6");
    expect(inserted.code).toBe(2);
    expect(tamper('DELETE FROM audit WHERE seq = 6').out).toContain('tail_missing');
  });

  it('refuses a database written by newer code', () => {
    const d = new Database(db);
    d.pragma('user_version = 999');
    d.close();
    expect(() => new SqliteRelayStore(db)).toThrow(StoreTooNewError);
    const r = cli(db, 'org', 'list');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('newer');
  });
});

function copyDb(file: string, bytes: Buffer): void {
  rmSync(file, { force: true });
  writeFileSync(file, bytes);
}

describe('docs/errors.md', () => {
  it('equals the relay error catalog', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
    expect(doc).toBe(renderErrorsMarkdown());
  });
});
