import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../src/index.js';

describe('docs/DATABASE.md', () => {
  it('documents every table and column of the schema', () => {
    const doc = readFileSync(new URL('../../../docs/DATABASE.md', import.meta.url), 'utf8');
    const db = new Database(':memory:');
    migrate(db);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
    expect(tables.length).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const table of tables) {
      if (!doc.includes(`\`${table}\``)) missing.push(table);
      for (const { name } of db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]) {
        if (!doc.includes(`\`${name}\``)) missing.push(`${table}.${name}`);
      }
    }
    db.close();
    expect(missing).toEqual([]);
  });
});
