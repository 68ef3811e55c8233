import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testPostgresUrl, withDatabase } from '@sluice/test-kit';

/** A fresh, empty database in the run's test cluster; `drop` removes it (and ends its sessions). */
export async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const found = testPostgresUrl();
  if ('skip' in found) throw new Error(found.skip);
  const name = `sluice_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: found.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(found.url, name),
    async drop() {
      const c = new pg.Client({ connectionString: found.url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Run SQL on `url` with a connection of its own (an operator with database access). */
export async function rawQuery(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}
