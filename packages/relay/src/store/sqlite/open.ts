import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite, SchemaTooNewError, type Migration } from '@sluice/node-kit';
import { SluiceError } from '@sluice/shared-protocol';
import { MIGRATIONS } from '../migrations.js';

/** Thrown when the database was written by newer code than this build. */
export { SchemaTooNewError as StoreTooNewError };

/**
 * Name the real cause when the database cannot be created: a recursive mkdir on a read-only file system reports
 * ENOENT, which would send the operator looking for a missing folder.
 */
function unwritableStore(file: string, err: unknown): unknown {
  let dir = dirname(file);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let cause = (err as NodeJS.ErrnoException).code;
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    cause = (e as NodeJS.ErrnoException).code ?? cause;
  }
  if (cause === 'EROFS') return new SluiceError('STORAGE_ERROR', `cannot create the relay database ${file}: ${dir} is on a read-only file system`);
  if (cause === 'EACCES' || cause === 'EPERM') return new SluiceError('STORAGE_ERROR', `cannot create the relay database ${file}: permission denied on ${dir}`);
  return err;
}

/** Open (creating if needed, private to this user) a relay SQLite database in WAL mode and apply pending migrations. */
export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Database.Database {
  return openSqlite(
    file,
    { migrations, what: 'the relay database', program: 'sluice-relay' },
    { createPrivate: true, explainOpenError: (err) => unwritableStore(file, err) },
  );
}
