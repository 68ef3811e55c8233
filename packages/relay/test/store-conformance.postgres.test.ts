import { PostgresRelayStore } from '../src/index.js';
import { freshPgDatabase, rawQuery } from '@sluice/test-kit';
import { describeRelayStore } from './store-conformance.js';

describeRelayStore('PostgreSQL', async (clock) => {
  const db = await freshPgDatabase();
  const open = () => PostgresRelayStore.open(db.url, { now: () => clock.now, poolSize: 4 });
  const store = await open();
  return {
    store,
    reopen: open,
    openAsNewerSchema: async () => {
      await store.close();
      await rawQuery(db.url, "INSERT INTO relay_schema (version, name, applied_at) SELECT max(version) + 1, 'from the future', 0 FROM relay_schema");
      try {
        await (await open()).close();
        return undefined;
      } catch (err) {
        return err;
      }
    },
    tamperAuditRow: async (seq) => {
      await rawQuery(db.url, "ALTER TABLE audit DISABLE TRIGGER audit_no_update; UPDATE audit SET outcome = 'denied' WHERE seq = " + String(Number(seq)));
    },
    updateAuditRow: async (seq) => {
      try {
        await store.pool.query("UPDATE audit SET outcome = 'denied' WHERE seq = $1", [seq]);
        return undefined;
      } catch (err) {
        return err;
      }
    },
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
});
