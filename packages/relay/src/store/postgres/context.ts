import type pg from 'pg';

/** What every table group of the PostgreSQL store shares: one pool, one clock. */
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
