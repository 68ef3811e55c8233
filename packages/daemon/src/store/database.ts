import type Database from 'better-sqlite3';
import { migrate as migrateSchema, openSqlite, SchemaTooNewError, type SchemaSpec } from '@sluice/node-kit';
import { MIGRATIONS, type Migration } from './migrations.js';

/** The database was written by newer code than this build; refusing it protects the ledger. */
export { SchemaTooNewError as DatabaseTooNewError };

const ledgerSchema = (migrations: readonly Migration[]): SchemaSpec => ({ migrations, what: 'state.db', program: 'sluice' });

/** Apply pending migrations in one `BEGIN IMMEDIATE` transaction; refuse a newer database. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  return migrateSchema(db, ledgerSchema(migrations));
}

/** Open (or create) the ledger: WAL, foreign keys, busy timeout, migrations applied. */
export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Database.Database {
  return openSqlite(path, ledgerSchema(MIGRATIONS), { readonly: opts.readonly ?? false });
}
