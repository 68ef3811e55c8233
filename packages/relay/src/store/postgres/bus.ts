import type pg from 'pg';
import { createClient } from './open.js';

type Handler = (payload: string) => void;

/** How long a lost LISTEN connection waits before it connects again. */
const RECONNECT_MS = 1000;

/**
 * PostgreSQL LISTEN/NOTIFY for one process: one dedicated connection that listens, named `sluice-relay/<replica id>`
 * so other replicas can tell from `pg_stat_activity` that this one is alive (the server drops the connection when
 * the process dies). Notifications are sent through the pool.
 */
export class PgBus {
  private client: pg.Client | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private closed = false;
  private reconnecting: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    readonly applicationName: string,
    private readonly pool: pg.Pool,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    const client = createClient(this.url, this.applicationName);
    client.on('notification', (n) => {
      for (const h of this.handlers.get(n.channel) ?? []) h(n.payload ?? '');
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${quoteChannel(channel)}`);
    this.client = client;
  }

  async on(channel: string, handler: Handler): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.client?.query(`LISTEN ${quoteChannel(channel)}`);
    }
    set.add(handler);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnecting);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.onError(err);
    client.end().catch(() => {});
    const retry = (): void => {
      if (this.closed) return;
      this.start().catch((e: unknown) => {
        this.onError(e);
        this.reconnecting = setTimeout(retry, RECONNECT_MS);
        this.reconnecting.unref();
      });
    };
    this.reconnecting = setTimeout(retry, RECONNECT_MS);
    this.reconnecting.unref();
  }
}

/** Channel names are identifiers built by this code (letters, digits, underscores); quoted all the same. */
function quoteChannel(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad channel name ${name}`);
  return `"${name}"`;
}
