import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { fakeId } from '@sluice/test-kit';
import type { FakeConnector } from '@sluice/test-kit';
import { connectedConnector, fakeRun, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

const MAX = 3;

/** Every upper/lower-case spelling of "Bearer": 64 of them. */
function bearerSpellings(): string[] {
  const out: string[] = [];
  for (let mask = 0; mask < 64; mask++) out.push([...'bearer'].map((ch, i) => (mask & (1 << i) ? ch.toUpperCase() : ch)).join(''));
  return out;
}

describe('rate limits are keyed by who is calling, not by what a header says', () => {
  let t: TestRelay;
  let a: Awaited<ReturnType<typeof orgWithToken>>;
  let c: FakeConnector;
  beforeEach(async () => {
    t = await startRelay({ rateLimit: { max: MAX, timeWindowMs: 60_000 } });
    a = await orgWithToken(t.store, 'org-a', ['runs:read', 'runs:write']);
    c = await connectedConnector(t, a.org.id);
    c.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
  });
  afterEach(async () => {
    c.close();
    await t.close();
  });

  const list = (authorization: string | undefined) =>
    fetch(`${t.url}/api/v2/instances.list`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{}' });

  it('64 spellings of "Bearer" share one budget: the principal', async () => {
    const statuses: number[] = [];
    for (const word of bearerSpellings()) statuses.push((await list(`${word} ${a.token}`)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(MAX);
    expect(statuses.slice(MAX).every((s) => s === 429)).toBe(true);
    const over = await list(`Bearer ${a.token}`);
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await over.json()) as { code: string }).code).toBe('RATE_LIMITED');
    // Another principal has its own budget.
    const b = await orgWithToken(t.store, 'org-b', ['runs:read']);
    expect((await list(`Bearer ${b.token}`)).status).toBe(200);
  });

  it('/mcp refuses JSON-RPC batches with a JSON-RPC error and forwards nothing', async () => {
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'runs_open', arguments: { workspaceId: 'ws1' } } });
    const res = await fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify([call(1), call(2), call(3)]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(c.requests).toHaveLength(0);
  });
});

describe('per-IP limits before authentication', () => {
  let t: TestRelay;
  let a: Awaited<ReturnType<typeof orgWithToken>>;
  beforeEach(async () => {
    t = await startRelay({ rateLimit: { max: MAX, timeWindowMs: 60_000 } });
    a = await orgWithToken(t.store, 'org-a', ['runs:read']);
  });
  afterEach(async () => {
    await t.close();
  });

  const list = (authorization: string | undefined) =>
    fetch(`${t.url}/api/v2/instances.list`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{}' });

  it('unauthenticated routes count per IP whatever made-up Authorization header comes along', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MAX + 3; i++) {
      const res = await fetch(`${t.url}/.well-known/oauth-protected-resource`, { headers: { authorization: `Bearer made-up-${i}` } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array<number>(MAX).fill(200), 429, 429, 429]);
    expect((await fetch(`${t.url}/ws/connectors/challenge?instanceId=ins_01JD0000000000000000000000`)).status).toBe(429);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('failed authentications count per IP; a valid credential from the same address keeps its own budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MAX + 2; i++) statuses.push((await list(`Bearer slc_pat_${randomBytes(20).toString('hex')}`)).status);
    expect(statuses).toEqual([...Array<number>(MAX).fill(401), 429, 429]);
    expect((await list(undefined)).status).toBe(429);
    expect((await list(`Bearer ${a.token}`)).status).toBe(200);
  });
});
