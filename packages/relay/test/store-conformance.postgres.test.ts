import { expect } from 'vitest';
import { PostgresRelayStore } from '../src/index.js';
import { freshPgDatabase, rawQuery, waitUntil } from '@sluice/test-kit';
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
    holdClaim: async (orgId, runId, key, inputHash) => {
      const replica = await open();
      expect(await replica.claimDispatch(orgId, runId, key, inputHash, { ttlMs: 10_000, staleMs: 60_000 })).toBe(true);
      return {
        end: async () => {
          await replica.close();
          // The server drops a closed client's row from pg_stat_activity a moment after the socket closes.
          const gone = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sluice-relay/${replica.replicaId}'`;
          await waitUntil(async () => ((await rawQuery(db.url, gone)).rows[0] as { n: number }).n === 0 || undefined, { what: 'the closed replica to leave pg_stat_activity' });
        },
      };
    },
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
});
