import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** One numbered schema step. Released entries are never edited; add a new one instead. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: string;
}

/** The database was written by newer code than this build; refusing it protects what it holds. */
export class SchemaTooNewError extends Error {
  /** What the CLIs print before the message (`sluice: STORE_TOO_NEW: …`). */
  readonly code = 'STORE_TOO_NEW';

  constructor(
    readonly what: string,
    readonly found: number,
    readonly supported: number,
    readonly program: string,
  ) {
    super(`${what} has schema version ${found}, newer than this build understands (${supported}); upgrade ${program} instead of downgrading the database`);
    this.name = 'SchemaTooNewError';
  }
}

/** What the opener needs to name in its messages and which schema it applies. */
export interface SchemaSpec {
  readonly migrations: readonly Migration[];
  /** How messages name the database, e.g. `state.db`. */
  readonly what: string;
  /** The program to upgrade, e.g. `sluice`. */
  readonly program: string;
}

const latestVersion = (migrations: readonly Migration[]): number => migrations.reduce((m, x) => Math.max(m, x.version), 0);

/** Throw `SchemaTooNewError` when the file is ahead of `spec`; returns the file's `user_version`. */
export function checkSchemaVersion(db: Database.Database, spec: SchemaSpec): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestVersion(spec.migrations);
  if (current > latest) throw new SchemaTooNewError(spec.what, current, latest, spec.program);
  return current;
}

/**
 * Apply pending migrations in version order inside one `BEGIN IMMEDIATE` transaction; `user_version` follows each
 * step. Refuses a newer database. Returns the version now in the file.
 */
export function migrate(db: Database.Database, spec: SchemaSpec): number {
  const current = checkSchemaVersion(db, spec);
  const pending = spec.migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  if (pending.length === 0) return current;
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
  return pending.at(-1)!.version;
}

export interface OpenSqliteOptions {
  /** Open without writing: no pragmas that write, no migrations; the schema must not be newer. */
  readonly?: boolean;
  /** Create missing parent folders (0700) and a new file with mode 0600. */
  createPrivate?: boolean;
  /** Turn an error of `new Database` into a clearer one (an unwritable folder, say). */
  explainOpenError?: (err: unknown) => unknown;
}

/** Open (or create) a SQLite database: WAL, foreign keys, busy timeout, migrations applied; a newer schema is refused. */
export function openSqlite(file: string, spec: SchemaSpec, opts: OpenSqliteOptions = {}): Database.Database {
  const readonly = opts.readonly ?? false;
  const memory = file === ':memory:';
  const fresh = !memory && !existsSync(file);
  let db: Database.Database;
  try {
    if (opts.createPrivate && !memory && !readonly) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (err) {
    throw opts.explainOpenError ? opts.explainOpenError(err) : err;
  }
  try {
    if (fresh && opts.createPrivate && !readonly) chmodSync(file, 0o600);
    db.pragma('busy_timeout = 5000');
    // Before any pragma that writes: a database from a newer release is left exactly as it was.
    checkSchemaVersion(db, spec);
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, spec);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Prepared statements by SQL text: preparing costs more than most queries. Bounded, so built SQL cannot grow it. */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly max = 500,
  ) {}

  get(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size >= this.max) this.statements.clear();
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}

/** SQL for triggers that make `table` append-only: any UPDATE or DELETE aborts. */
export function appendOnlyTriggers(table: string): string {
  return `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`;
}
