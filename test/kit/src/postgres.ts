import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where Debian's `postgresql` package puts the server binaries (one folder per major version). */
const DEBIAN_PG_ROOT = '/usr/lib/postgresql';
/** The account a cluster runs as when the tests run as root: initdb and postgres refuse root. */
const CLUSTER_USER = 'nobody';

export const PG_URL_ENV = 'SLUICE_TEST_PG_URL';
const UNAVAILABLE_ENV = 'SLUICE_TEST_PG_UNAVAILABLE';

/** The newest server binary folder, or undefined when the server is not installed. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(DEBIAN_PG_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_PG_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(DEBIAN_PG_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(DEBIAN_PG_ROOT, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Run a server binary as the cluster's user: ourselves, or `nobody` through runuser when we are root. */
function asClusterUser(bin: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const [cmd, argv] = root ? ['runuser', ['-u', CLUSTER_USER, '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: tmpdir() });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

export interface TestPostgres {
  /** A superuser URL with no password (trust on 127.0.0.1 only, inside a throwaway cluster). */
  url: string;
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL cluster in a temp folder on a free 127.0.0.1 port, run as a non-root account. */
export async function startTestPostgres(bin: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { uid, gid } = clusterAccount();
    chownSync(dir, uid, gid);
  }
  asClusterUser(join(bin, 'initdb'), ['-D', data, '-U', 'sluice', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  asClusterUser(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', 'start']);
  return {
    url: `postgres://sluice@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        asClusterUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function clusterAccount(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, CLUSTER_USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * For a vitest globalSetup: start one cluster for the whole run unless `SLUICE_TEST_PG_URL` names one. When the
 * server is missing, the run goes on and every PostgreSQL test fails (or skips, see `testPostgresUrl`) with why.
 */
export async function provideTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  if (env[PG_URL_ENV]) return async () => {};
  const bin = postgresBinDir();
  if (!bin) {
    env[UNAVAILABLE_ENV] = `the PostgreSQL server is not installed (no ${DEBIAN_PG_ROOT}/*/bin/initdb): apt-get install postgresql (Debian package \`postgresql\`)`;
    return async () => {};
  }
  const pg = await startTestPostgres(bin);
  env[PG_URL_ENV] = pg.url;
  return () => pg.stop();
}

/**
 * The URL of the run's test cluster; `{ skip }` only with SLUICE_SKIP_POSTGRES=1 outside CI, else it throws naming
 * the Debian package.
 */
export function testPostgresUrl(env: NodeJS.ProcessEnv = process.env): { url: string } | { skip: string } {
  const url = env[PG_URL_ENV];
  if (url) return { url };
  const why = env[UNAVAILABLE_ENV] ?? `${PG_URL_ENV} is not set (the vitest globalSetup starts a cluster; run the tests through vitest)`;
  if (env.SLUICE_SKIP_POSTGRES === '1') {
    if (env.CI === 'true') throw new Error(`SLUICE_SKIP_POSTGRES=1 is refused under CI=true: ${why}`);
    return { skip: `SLUICE_SKIP_POSTGRES=1: ${why}` };
  }
  throw new Error(why);
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh, empty database in the run's test cluster; `drop` removes it (and ends its sessions). */
export async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const found = testPostgresUrl();
  if ('skip' in found) throw new Error(found.skip);
  const name = `sluice_${randomBytes(6).toString('hex')}`;
  await rawQuery(found.url, `CREATE DATABASE ${name}`);
  return {
    url: withDatabase(found.url, name),
    drop: async () => {
      await rawQuery(found.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Run SQL on `url` with a connection of its own (an operator with database access). */
export async function rawQuery(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
