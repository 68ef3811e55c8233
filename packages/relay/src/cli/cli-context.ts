import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Scope, SluiceError } from '@sluice/shared-protocol';
import { operatorActor } from '@sluice/node-kit';
import { AdminService } from '../admin/admin-service.js';
import type { AdminCaller } from '../admin/admin-service.js';
import { relaySocketPath, RunningRelay } from '../admin/relay-socket.js';
import { OAuthAdmin } from '../oauth/oauth-admin.js';
import { openRelayStore } from '../store/open-store.js';
import { PostgresRelayStore } from '../store/postgres-store.js';
import { ReplicaNotices } from '../replicas/replica-notices.js';
import type { RelayStore } from '../store/relay-store.js';

/** What the CLI talks to: injected so tests can run it in-process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** Where `start` takes SIGTERM/SIGINT from; defaults to `process`. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** How `start` exits once stopped; defaults to `process.exit`. */
  exit?: (code: number) => void;
}

export interface GlobalOpts {
  db?: string;
  json?: boolean;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function scopesOf(text: string): Scope[] {
  return text.split(',').map((s) => {
    const parsed = Scope.safeParse(s.trim());
    if (!parsed.success) throw new SluiceError('INVALID_INPUT', `Unknown scope "${s.trim()}".`);
    return parsed.data;
  });
}

/** `a, b,c` → `['a', 'b', 'c']`. */
export function listOf(text: string): string[] {
  return text.split(',').map((s) => s.trim());
}

/** What every command shares: the io, the database of `--db`, output in text or `--json`, the exit code. */
export class CliContext {
  exitCode = 0;

  constructor(readonly io: CliIo) {}

  /** `--db`, else $SLUICE_RELAY_DB (a postgres:// URL without password, or a file), else the default file. */
  dbPath(cmd: Command): string {
    const opts = cmd.optsWithGlobals<GlobalOpts>();
    if (opts.db) return opts.db;
    if (this.io.env.SLUICE_RELAY_DB) return this.io.env.SLUICE_RELAY_DB;
    const home = this.io.env.SLUICE_RELAY_HOME ?? join(homedir(), '.sluice-relay');
    return join(home, 'relay.db');
  }

  /** The operator running the CLI, who may act on every org. */
  caller(): AdminCaller {
    return { actor: operatorActor() };
  }

  async withStore<T>(cmd: Command, fn: (store: RelayStore) => Promise<T> | T): Promise<T> {
    const store = await openRelayStore(this.dbPath(cmd));
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  /** The admin service over the database, telling the relay running on it (if one does) what changed. */
  withAdmin<T>(cmd: Command, fn: (admin: AdminService, store: RelayStore) => Promise<T>): Promise<T> {
    return this.withStore(cmd, (store) => fn(new AdminService(store, this.liveRelay(cmd, store)), store));
  }

  /** Who must hear of a change: the other replicas on PostgreSQL, the relay running on this SQLite file otherwise. */
  private liveRelay(cmd: Command, store: RelayStore): ReplicaNotices | RunningRelay {
    return store instanceof PostgresRelayStore ? new ReplicaNotices(store) : new RunningRelay(relaySocketPath(this.dbPath(cmd)));
  }

  /** The built-in authorization server's grants, clients and admins, telling a running relay what changed. */
  withOAuthAdmin<T>(cmd: Command, fn: (admin: OAuthAdmin, store: RelayStore) => Promise<T>): Promise<T> {
    return this.withStore(cmd, (store) => fn(new OAuthAdmin(store, this.liveRelay(cmd, store)), store));
  }

  print(cmd: Command, value: unknown, human: () => string): void {
    const json = cmd.optsWithGlobals<GlobalOpts>().json === true;
    this.io.out(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
  }
}
