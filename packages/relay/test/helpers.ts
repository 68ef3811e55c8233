import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { authSigningPayload, HEADERS, PLANNER_SCOPES, PROTOCOL_VERSION, RELAY_PATHS } from '@sluice/shared-protocol';
import type { Frame, RequestFrame, Scope, WorkspaceSummary } from '@sluice/shared-protocol';
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
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An org with a token holding the given scopes. */
export function orgWithToken(store: SqliteRelayStore, name: string, scopes: Scope[], extra: { instanceAllowlist?: string[]; expiresAt?: number } = {}) {
  const org = store.createOrg(name);
  const { record, secret } = store.createToken({ orgId: org.id, name: `${name}-token`, scopes, ...extra });
  return { org, token: secret, tokenId: record.id };
}

export const ALL_SCOPES: Scope[] = [...PLANNER_SCOPES];

export function workspace(id: string): WorkspaceSummary {
  return { workspaceId: id, name: id, executors: ['simulation'], validations: ['unit'], approvalPolicy: 'none', remoteApprovals: true };
}

export type Handler = (input: Record<string, unknown>, frame: RequestFrame) => unknown;

/** A scripted connector: real Ed25519 keys, real enrollment, signed challenge, real websocket. */
export class FakeConnector {
  readonly privateKey: KeyObject;
  readonly publicKeyX: string;
  instanceId = '';
  orgId = '';
  /** The origin the relay said to sign (from the enrollment answer). */
  relayOrigin = '';
  ws: WebSocket | undefined;
  readonly frames: Frame[] = [];
  readonly requests: RequestFrame[] = [];
  closeCode: number | undefined;
  answerPings = true;
  handlers: Record<string, Handler> = {};

  constructor(
    readonly relayUrl: string,
    public workspaces: WorkspaceSummary[] = [workspace('ws1')],
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicKeyX = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  }

  async enroll(token: string, name = 'laptop'): Promise<Response> {
    const res = await fetch(this.relayUrl + RELAY_PATHS.enroll, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, publicKey: this.publicKeyX, name }),
    });
    if (res.ok) {
      const body = (await res.clone().json()) as { instanceId: string; orgId: string; relayOrigin: string };
      this.relayOrigin = body.relayOrigin;
      this.instanceId = body.instanceId;
      this.orgId = body.orgId;
    }
    return res;
  }

  async challenge(): Promise<{ nonce: string; relayOrigin: string }> {
    const res = await fetch(`${this.relayUrl}${RELAY_PATHS.connectorChallenge}?instanceId=${this.instanceId}`);
    return (await res.json()) as { nonce: string; relayOrigin: string };
  }

  /** The header value for a signed challenge. */
  authHeader(nonce: string, opts: { timestamp?: number; key?: KeyObject; relayOrigin?: string } = {}): string {
    const timestamp = opts.timestamp ?? Date.now();
    const payload = authSigningPayload({ nonce, instanceId: this.instanceId, relayOrigin: opts.relayOrigin ?? (this.relayOrigin || this.relayUrl), timestamp });
    const signature = sign(null, Buffer.from(payload), opts.key ?? this.privateKey).toString('base64url');
    return Buffer.from(JSON.stringify({ type: 'auth', instanceId: this.instanceId, nonce, timestamp, signature })).toString('base64url');
  }

  /** Try an upgrade with a given header; resolves with the open socket or the refusal's status and body. */
  upgrade(header: string | undefined): Promise<{ ws?: WebSocket; status?: number; body?: { code: string; message: string } }> {
    const wsUrl = this.relayUrl.replace(/^http/, 'ws') + RELAY_PATHS.connectorSocket;
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, { headers: header ? { [HEADERS.connectorAuth]: header } : {} });
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) as { code: string; message: string } }));
      });
      ws.on('open', () => resolve({ ws }));
      ws.on('error', () => undefined);
    });
  }

  /** Full connect: challenge, signed upgrade, hello; resolves on welcome. */
  async connect(protocolVersion = PROTOCOL_VERSION): Promise<Frame> {
    const { nonce } = await this.challenge();
    const r = await this.upgrade(this.authHeader(nonce));
    if (!r.ws) throw new Error(`upgrade refused: ${r.status} ${JSON.stringify(r.body)}`);
    const ws = r.ws;
    this.ws = ws;
    this.closeCode = undefined;
    ws.on('close', (code) => (this.closeCode = code));
    const first = new Promise<Frame>((resolve) => {
      ws.on('message', (data: Buffer) => {
        const f = JSON.parse(data.toString()) as Frame;
        this.frames.push(f);
        if (f.type === 'welcome' || f.type === 'error') resolve(f);
        if (f.type === 'ping' && this.answerPings) ws.send(JSON.stringify({ type: 'pong', ts: f.ts }));
        if (f.type === 'request') void this.answer(f);
      });
      ws.on('close', () => resolve({ type: 'goodbye', reason: 'closed' }));
    });
    this.sendHello(protocolVersion);
    return first;
  }

  sendHello(protocolVersion = PROTOCOL_VERSION): void {
    this.ws!.send(JSON.stringify({ type: 'hello', protocolVersion, connectorVersion: '0.1.0-test', workspaces: this.workspaces }));
  }

  private async answer(f: RequestFrame): Promise<void> {
    this.requests.push(f);
    const h = this.handlers[f.verb];
    if (!h) {
      this.ws?.send(JSON.stringify({ type: 'response', id: f.id, ok: false, error: { code: 'UNKNOWN_VERB', message: 'not scripted' } }));
      return;
    }
    try {
      const out = await h(f.input as Record<string, unknown>, f);
      if (out === NO_ANSWER) return;
      if (out && typeof out === 'object' && 'raw' in out) {
        this.ws?.send((out as { raw: string }).raw);
        return;
      }
      this.ws?.send(JSON.stringify({ type: 'response', id: f.id, ok: true, output: out }));
    } catch (err) {
      const e = err as { code?: string; message: string };
      this.ws?.send(JSON.stringify({ type: 'response', id: f.id, ok: false, error: { code: e.code ?? 'INTERNAL', message: e.message } }));
    }
  }

  waitClose(): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.ws!.once('close', (code) => resolve(code)));
  }

  close(): void {
    this.ws?.terminate();
  }
}

/** Returned by a handler: do not answer at all. */
export const NO_ANSWER = Symbol('no-answer');

/** Enroll and connect a fake connector into an org. */
export async function connectedConnector(t: TestRelay, orgId: string, workspaces?: WorkspaceSummary[]): Promise<FakeConnector> {
  const c = new FakeConnector(t.url, workspaces);
  const enr = t.store.createEnrollmentToken(orgId, 60_000);
  const res = await c.enroll(enr.secret);
  if (!res.ok) throw new Error(`enroll failed ${res.status}`);
  await c.connect();
  return c;
}

const T = '2026-11-23T10:00:00.000Z';
let counter = 0;
/** A ULID-shaped id of a kind prefix, unique within the test process. */
export function fakeId(prefix: 'run' | 'stp' | 'att' | 'gat'): string {
  counter++;
  return `${prefix}_01JD${String(counter).padStart(22, '0')}`;
}

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
