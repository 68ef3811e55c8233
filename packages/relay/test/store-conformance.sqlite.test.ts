import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
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
    holdClaim: async (orgId, runId, key, inputHash) => {
      // Another relay process on this file: a child that lives until `end` kills it.
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      await once(child, 'spawn');
      const raw = new Database(file);
      raw
        .prepare("INSERT OR REPLACE INTO dispatch_answers (org_id, run_id, idem_key, input_hash, step_id, created_at, claimed_by) VALUES (?, ?, ?, ?, '', ?, ?)")
        .run(orgId, runId, key, inputHash, clock.now, JSON.stringify({ host: hostname(), pid: child.pid, boot: 'another-process' }));
      raw.close();
      return {
        end: async () => {
          child.kill('SIGKILL');
          if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
        },
      };
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
