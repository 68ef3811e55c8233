import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteRelayStore } from '../src/index.js';
import { describeRelayStore } from './store-conformance.js';

describeRelayStore('SQLite', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-relay-store-'));
  const file = join(dir, 'relay.db');
  const open = () => new SqliteRelayStore(file, { now: () => clock.now });
  const store = open();
  return {
    store,
    reopen: async () => open(),
    openAsNewerSchema: async () => {
      await store.close();
      const raw = new Database(file);
      raw.pragma(`user_version = ${(raw.pragma('user_version', { simple: true }) as number) + 1}`);
      raw.close();
      try {
        open();
        return undefined;
      } catch (err) {
        return err;
      }
    },
    tamperAuditRow: async (seq) => {
      const raw = new Database(file);
      raw.exec('DROP TRIGGER audit_no_update');
      raw.prepare("UPDATE audit SET outcome = 'denied' WHERE seq = ?").run(seq);
      raw.close();
    },
    updateAuditRow: async (seq) => {
      try {
        store.db.prepare("UPDATE audit SET outcome = 'denied' WHERE seq = ?").run(seq);
        return undefined;
      } catch (err) {
        return err;
      }
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
