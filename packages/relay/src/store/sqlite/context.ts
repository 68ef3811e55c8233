import type Database from 'better-sqlite3';
import type { StatementCache } from '@sluice/node-kit';

/** What every table group of the SQLite store shares: one connection, one statement cache, one clock. */
export interface SqliteContext {
  readonly db: Database.Database;
  readonly stmts: StatementCache;
  readonly now: () => number;
}
