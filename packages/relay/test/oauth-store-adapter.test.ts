import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteRelayStore } from '../src/index.js';
import { StoreAdapter } from '../src/oauth/store-adapter.js';
import { hashSecret } from '../src/tokens/token-format.js';

describe('the authorization server adapter over the relay store', () => {
  const clock = { now: Date.UTC(2026, 10, 1) };
  let dir: string;
  let store: SqliteRelayStore;
  const opts = { now: () => clock.now, unusedClientTtlMs: 60_000 };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-oauth-adapter-'));
    store = new SqliteRelayStore(join(dir, 'relay.db'), { now: () => clock.now });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never writes a token id: it keys the record by its hash and gives the id back on a read by it', async () => {
    const tokens = new StoreAdapter('RefreshToken', store, opts);
    await tokens.upsert('secret-token-value', { jti: 'secret-token-value', grantId: 'g1', kind: 'RefreshToken', exp: 1 }, 600);
    const row = store.db.prepare('SELECT * FROM oauth_records').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain('secret-token-value');
    expect(row.id_hash).toBe(hashSecret('secret-token-value'));
    expect(await tokens.find('secret-token-value')).toMatchObject({ jti: 'secret-token-value', grantId: 'g1' });
    expect(await tokens.find('other')).toBeUndefined();
    await tokens.consume('secret-token-value');
    expect((await tokens.find('secret-token-value'))?.consumed).toBe(Math.floor(clock.now / 1000));
    clock.now += 601_000;
    expect(await tokens.find('secret-token-value')).toBeUndefined();
    await tokens.revokeByGrantId('g1');
    expect(store.db.prepare('SELECT count(*) AS n FROM oauth_records').get()).toEqual({ n: 0 });
  });

  it('a registered client no admin approved expires after the unused TTL', async () => {
    const clients = new StoreAdapter('Client', store, opts);
    await clients.upsert('client-1', { client_id: 'client-1', redirect_uris: ['https://a.example/cb'] });
    expect(await clients.find('client-1')).toMatchObject({ client_id: 'client-1' });
    clock.now += 61_000;
    expect(await clients.find('client-1')).toBeUndefined();
  });
});
