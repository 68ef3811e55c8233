import pg from 'pg';
import { SchemaTooNewError, type Migration } from '@sluice/node-kit';
import { SluiceError } from '@sluice/shared-protocol';
import { inTransaction } from './context.js';

/** Whether a `--db` value names a PostgreSQL database rather than a SQLite file. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/**
 * A password in the URL would sit in argv, which `ps` shows to every local account: refuse it and name the
 * places libpq clients read it from instead.
 */
export function refusePasswordInUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SluiceError('BAD_REQUEST', 'The PostgreSQL URL does not parse; the form is postgres://user@host:port/database.');
  }
  if (parsed.password !== '' || parsed.searchParams.has('password')) {
    throw new SluiceError(
      'BAD_REQUEST',
      'The PostgreSQL URL carries a password, and argv is visible to every local account (ps). Remove it and put it in a password file (~/.pgpass or PGPASSFILE) or in PGPASSWORD.',
    );
  }
}

const INT8_OID = 20;

/** Times are milliseconds in BIGINT columns: read them as numbers (they stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser,
};

/** A pool on `url`; the password comes from the environment or the password file (pg reads both, as libpq does). */
export function createPool(url: string, applicationName: string, max: number): pg.Pool {
  refusePasswordInUrl(url);
  const pool = new pg.Pool({ connectionString: url, application_name: applicationName, max, types });
  // An idle client that loses its server (a restart) must not take the process down; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

/** One more client on `url` outside the pool (the LISTEN connection). */
export function createClient(url: string, applicationName: string): pg.Client {
  return new pg.Client({ connectionString: url, application_name: applicationName, types });
}

/** Key of the advisory lock that serializes migrations of replicas starting at once. */
const MIGRATION_LOCK = 7_104_219_001;

/**
 * Apply pending migrations in one transaction under an advisory lock (two replicas starting together migrate once);
 * refuse a database whose schema is newer than this build.
 */
export async function migratePostgres(pool: pg.Pool, migrations: readonly Migration[]): Promise<number> {
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS relay_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const current = (await client.query<{ v: number | null }>('SELECT max(version) AS v FROM relay_schema')).rows[0]?.v ?? 0;
    if (current > latest) throw new SchemaTooNewError('the relay database', current, latest, 'sluice-relay');
    for (const m of [...migrations].filter((x) => x.version > current).sort((a, b) => a.version - b.version)) {
      await client.query(m.up);
      await client.query('INSERT INTO relay_schema (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    return Math.max(current, latest);
  });
}
