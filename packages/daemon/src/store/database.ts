import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';

/** The database was written by newer code than this build; refusing it protects the ledger. */
export class DatabaseTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`state.db has schema version ${found} but this sluice understands up to ${supported}; upgrade sluice instead of downgrading the database`);
    this.name = 'DatabaseTooNewError';
  }
}

/** Apply pending migrations in one `BEGIN IMMEDIATE` transaction; refuse a newer database. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) throw new DatabaseTooNewError(current, latest);
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return current;
  db.transaction(() => {
    for (const m of pending) db.exec(m.up);
    db.pragma(`user_version = ${latest}`);
  }).immediate();
  return latest;
}

/** Open (or create) the ledger: WAL, foreign keys, busy timeout, migrations applied. */
export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Database.Database {
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } else {
    const current = db.pragma('user_version', { simple: true }) as number;
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) throw new DatabaseTooNewError(current, latest);
  }
  return db;
}
