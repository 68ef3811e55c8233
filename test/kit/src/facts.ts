import { PLANNER_SCOPES as PROTOCOL_PLANNER_SCOPES } from '@sluice/shared-protocol';
import type { Scope } from '@sluice/shared-protocol';

/** Every scope a planner token can hold (all of them but `admin`), as a list a test may pass where one is mutable. */
export const PLANNER_SCOPES: Scope[] = [...PROTOCOL_PLANNER_SCOPES];

/** The part of a better-sqlite3 handle the table helpers need. */
export interface SqlHandle {
  prepare(sql: string): { all(...args: unknown[]): unknown[]; get(...args: unknown[]): unknown };
}

/** The tables the migrations created in `db`, by name, minus `except` (SQLite's own tables are never listed). */
export function tablesOf(db: SqlHandle, except: readonly string[] = []): string[] {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
  return rows.map((r) => r.name).filter((n) => !except.includes(n));
}

/** Row counts of the given tables (default: every migrated table). */
export function rowCounts(db: SqlHandle, tables: readonly string[] = tablesOf(db)): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n;
  return out;
}
