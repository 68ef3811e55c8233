import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeConnector } from '@sluice/test-kit';
import type { Scope, WorkspaceSummary } from '@sluice/shared-protocol';
import { buildRelay, SqliteRelayStore } from '../src/index.js';
import type { Relay, RelayConfigInput } from '../src/index.js';

export interface TestRelay {
  relay: Relay;
  store: SqliteRelayStore;
  dir: string;
  url: string;
  close(): Promise<void>;
}

/** A real relay on 127.0.0.1:0 with a real SQLite store in a temp dir. */
export async function startRelay(config: RelayConfigInput = {}, opts: { now?: () => number } = {}): Promise<TestRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-relay-test-'));
  const store = new SqliteRelayStore(join(dir, 'relay.db'), opts);
  const relay = await buildRelay({ store, ...(opts.now ? { now: opts.now } : {}) }, { rateLimit: { max: 100_000, timeWindowMs: 60_000 }, ...config });
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = relay.app.server.address() as { port: number };
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    relay,
    store,
    dir,
    url,
    async close() {
      await relay.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An org with a token holding the given scopes. */
export async function orgWithToken(store: SqliteRelayStore, name: string, scopes: Scope[], extra: { instanceAllowlist?: string[]; expiresAt?: number } = {}) {
  const org = await store.createOrg(name);
  const { record, secret } = await store.createToken({ orgId: org.id, name: `${name}-token`, scopes, ...extra });
  return { org, token: secret, tokenId: record.id };
}

/** Enroll and connect a fake connector into an org. */
export async function connectedConnector(t: TestRelay, orgId: string, workspaces?: WorkspaceSummary[]): Promise<FakeConnector> {
  const c = new FakeConnector(t.url, workspaces);
  const enr = await t.store.createEnrollmentToken(orgId, 60_000);
  const res = await c.enroll(enr.secret);
  if (!res.ok) throw new Error(`enroll failed ${res.status}`);
  await c.connect();
  return c;
}

const T = '2026-11-23T10:00:00.000Z';

export function fakeRun(runId: string, workspaceId = 'ws1') {
  return {
    runId,
    workspaceId,
    title: 't',
    state: 'open',
    baseRef: 'HEAD',
    baseCommit: 'a'.repeat(40),
    branch: `sluice/run/${runId}`,
    headCommit: 'a'.repeat(40),
    createdBy: 'planner:x/y',
    createdAt: T,
    updatedAt: T,
  };
}

export function fakeStep(runId: string, stepId: string, idempotencyKey: string | null = null) {
  return {
    stepId,
    runId,
    seq: 1,
    executor: 'simulation',
    task: 'do it',
    validations: [],
    approvalRequired: false,
    timeoutMs: 60_000,
    attemptsRequested: 1,
    state: 'queued',
    acceptedAttemptId: null,
    idempotencyKey,
    createdBy: 'planner:x/y',
    createdAt: T,
    updatedAt: T,
    attempts: [],
  };
}

/** POST a verb to /api/v2 with a bearer token. */
export async function callVerb(url: string, token: string | undefined, verb: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v2/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
