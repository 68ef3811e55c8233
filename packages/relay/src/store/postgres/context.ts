import type pg from 'pg';

/** What every table group of the PostgreSQL store shares: one pool, one clock. */
/**
 * The `application_name` of a replica's connections: a replica is alive while its LISTEN connection is, and the
 * server ends that connection when the process dies, even by SIGKILL, so `pg_stat_activity` says who is alive.
 */
export const replicaApplicationName = (replicaId: string): string => `sluice-relay/${replicaId}`;

/** SQL true while the replica whose id is in `column` has a connection to this database. */
export const replicaAliveSql = (column: string): string =>
  `EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = current_database() AND a.application_name = '${replicaApplicationName('')}' || ${column})`;

export interface PgContext {
  readonly pool: pg.Pool;
  readonly now: () => number;
}

/** Run `fn` in one transaction on one client of the pool. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
