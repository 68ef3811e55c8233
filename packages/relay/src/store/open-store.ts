import type { RelayStore } from './relay-store.js';
import { isPostgresUrl, PostgresRelayStore } from './postgres-store.js';
import { SqliteRelayStore } from './sqlite-store.js';

/** The store `--db` names: a `postgres://` URL (no password in it) or a SQLite file, the default. */
export async function openRelayStore(db: string): Promise<RelayStore> {
  return isPostgresUrl(db) ? PostgresRelayStore.open(db) : new SqliteRelayStore(db);
}
