import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, linkRows, migrate, openSqlite, parseDuration, SchemaTooNewError, sha256Hex, verifyChain, type RowHasher } from '../src/index.js';

const spec = (n: number) => ({
  what: 'test.db',
  program: 'sluice-test',
  migrations: Array.from({ length: n }, (_, i) => ({ version: i + 1, name: `m${i + 1}`, up: `CREATE TABLE t${i + 1} (x INTEGER);` })),
});

describe('openSqlite and migrate', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies pending migrations once, in order, and refuses a newer file naming the program to upgrade', () => {
    dir = mkdtempSync(join(tmpdir(), 'node-kit-'));
    const file = join(dir, 'sub', 'test.db');
    openSqlite(file, spec(1), { createPrivate: true }).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = openSqlite(file, spec(3));
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(migrate(db, spec(3))).toBe(3);
    db.close();
    expect(() => openSqlite(file, spec(2))).toThrow(SchemaTooNewError);
    expect(() => openSqlite(file, spec(2), { readonly: true })).toThrow(/test\.db has schema version 3, newer than this build understands \(2\); upgrade sluice-test/);
  });

  it('rolls a failing migration back entirely', () => {
    const db = new Database(':memory:');
    const bad = { ...spec(1), migrations: [...spec(1).migrations, { version: 2, name: 'bad', up: 'CREATE TABLE t1 (y INTEGER);' }] };
    expect(() => migrate(db, bad)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't1'").get()).toEqual({ n: 0 });
  });
});

describe('the audit chain', () => {
  const hasher: RowHasher<{ text: string }> = (prev, seq, f) => sha256Hex(prev, String(seq), f.text);

  it('verifies what it linked, and reports every break with a reason', () => {
    const rows = linkRows(hasher, { seq: 0, hash: GENESIS_HASH }, [{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    expect(verifyChain(hasher, rows, 3)).toEqual({ ok: true, rows: 3, problems: [] });
    const edited = rows.map((r) => (r.seq === 2 ? { ...r, fields: { text: 'B' } } : r));
    expect(verifyChain(hasher, edited, 3).problems).toEqual([{ seq: 2, problem: 'hash_mismatch', reason: expect.stringMatching(/edited/) as string }]);
    expect(verifyChain(hasher, [rows[0]!, rows[2]!], 3).problems.map((p) => p.problem)).toEqual(['sequence_gap', 'chain_broken']);
    expect(verifyChain(hasher, rows.slice(0, 2), 3).problems).toMatchObject([{ seq: 3, problem: 'tail_missing' }]);
  });
});

describe('parseDuration', () => {
  it('takes ms, s, m, h and d and refuses anything else', () => {
    expect([parseDuration('250ms'), parseDuration('30s'), parseDuration(' 10m '), parseDuration('2h'), parseDuration('90d')]).toEqual([250, 30_000, 600_000, 7_200_000, 7_776_000_000]);
    for (const bad of ['', '10', 'm', '1.5h', '-1s', '1w']) expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });
});
