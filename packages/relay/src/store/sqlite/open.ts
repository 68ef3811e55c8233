import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { explainUnwritable, openSqlite, SchemaTooNewError, type Migration } from '@sluice/node-kit';
import { MIGRATIONS } from '../migrations.js';

/** Thrown when the database was written by newer code than this build. */
export { SchemaTooNewError as StoreTooNewError };

/** Open (creating if needed, private to this user) a relay SQLite database in WAL mode and apply pending migrations. */
export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Database.Database {
  return openSqlite(
    file,
    { migrations, what: 'the relay database', program: 'sluice-relay' },
    { createPrivate: true, explainOpenError: (err) => explainUnwritable(dirname(file), `cannot create the relay database ${file}`, err) },
  );
}
