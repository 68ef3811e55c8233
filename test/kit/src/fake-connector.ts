import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { WebSocket } from 'ws';
import { authSigningPayload, HEADERS, PROTOCOL_VERSION, RELAY_PATHS } from '@sluice/shared-protocol';
import type { Frame, RequestFrame, WorkspaceSummary } from '@sluice/shared-protocol';
import { FrameTap } from './frame-tap.js';

/** A workspace as a connector announces it in its hello. */
export function workspace(id: string): WorkspaceSummary {
  return { workspaceId: id, name: id, executors: ['simulation'], validations: ['unit'], approvalPolicy: 'none', remoteApprovals: true };
}

/** Scripts a connector's answer to one verb; return `NO_ANSWER` to stay silent or `{ raw }` to send bytes as they are. */
export type Handler = (input: Record<string, unknown>, frame: RequestFrame) => unknown;

/** Returned by a handler: do not answer at all. */
export const NO_ANSWER = Symbol('no-answer');

/** What an upgrade attempt ended in: the open socket, or the refusal's status and `{code, message}` body. */
export interface UpgradeResult {
  ws?: WebSocket;
  status?: number;
  body?: { code: string; message: string };
  code?: string;
}

/** The parts of a signed auth header a test may forge. */
export interface AuthOptions {
  timestamp?: number;
  key?: KeyObject;
  relayOrigin?: string;
  instanceId?: string;
  signature?: string;
}

/** A scripted connector in front of a real relay: real Ed25519 keys, real enrollment, signed challenge, real websocket. */
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
  /** Offer permessage-deflate (ws's default); the bench turns it off to measure the relay, not zlib. */
  deflate = true;
  handlers: Record<string, Handler> = {};
  /** Sent as the hello's connectorBuild when set; left out otherwise, as a 0.1.0 connector does. */
  build: { commit: string | null; manifestSha256: string | null } | undefined;

  constructor(
    readonly relayUrl: string,
    public workspaces: WorkspaceSummary[] = [workspace('ws1')],
    identity?: { instanceId: string; privateKey: KeyObject; relayOrigin?: string },
  ) {
    if (identity) {
      this.privateKey = identity.privateKey;
      this.instanceId = identity.instanceId;
      this.relayOrigin = identity.relayOrigin ?? '';
    } else {
      this.privateKey = generateKeyPairSync('ed25519').privateKey;
    }
    this.publicKeyX = (this.privateKey.export({ format: 'jwk' }) as { x: string }).x;
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

  async challenge(instanceId = this.instanceId): Promise<{ nonce: string; relayOrigin: string }> {
    const res = await fetch(`${this.relayUrl}${RELAY_PATHS.connectorChallenge}?instanceId=${instanceId}`);
    return (await res.json()) as { nonce: string; relayOrigin: string };
  }

  /** A fresh challenge nonce (issued for `instanceId`, by default this connector's). */
  async nonce(instanceId = this.instanceId): Promise<string> {
    return (await this.challenge(instanceId)).nonce;
  }

  /** The header value for a signed challenge; every part can be forged through `opts`. */
  authHeader(nonce: string, opts: AuthOptions = {}): string {
    const instanceId = opts.instanceId ?? this.instanceId;
    const timestamp = opts.timestamp ?? Date.now();
    const payload = authSigningPayload({ nonce, instanceId, relayOrigin: opts.relayOrigin ?? (this.relayOrigin || this.relayUrl), timestamp });
    const signature = opts.signature ?? sign(null, Buffer.from(payload), opts.key ?? this.privateKey).toString('base64url');
    return Buffer.from(JSON.stringify({ type: 'auth', instanceId, nonce, timestamp, signature })).toString('base64url');
  }

  /** Try an upgrade with a given header; resolves with the open socket or the refusal's status and body. */
  upgrade(header: string | undefined, path: string = RELAY_PATHS.connectorSocket): Promise<UpgradeResult> {
    const wsUrl = this.relayUrl.replace(/^http/, 'ws') + path;
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, { headers: header === undefined ? {} : { [HEADERS.connectorAuth]: header }, perMessageDeflate: this.deflate });
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const body = parseBody(text);
          resolve({ status: res.statusCode, ...(body ? { body, code: body.code } : {}) });
        });
      });
      ws.on('open', () => resolve({ ws }));
      ws.on('error', () => undefined);
    });
  }

  /** Full connect: challenge, signed upgrade, hello; answers pings and scripted requests; resolves on welcome. */
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

  /** Upgrade, hello, welcome, and then nothing scripted: every frame goes to the returned tap. */
  async session(): Promise<FrameTap> {
    const r = await this.upgrade(this.authHeader(await this.nonce()));
    if (!r.ws) throw new Error(`upgrade refused: ${r.status} ${r.code}`);
    const tap = new FrameTap(r.ws);
    tap.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, connectorVersion: '0.1.0-test', workspaces: [] });
    await tap.next((f) => f.type === 'welcome');
    return tap;
  }

  sendHello(protocolVersion = PROTOCOL_VERSION): void {
    const build = this.build ? { connectorBuild: this.build } : {};
    this.ws!.send(JSON.stringify({ type: 'hello', protocolVersion, connectorVersion: '0.1.0-test', ...build, workspaces: this.workspaces }));
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

function parseBody(text: string): { code: string; message: string } | undefined {
  try {
    return JSON.parse(text) as { code: string; message: string };
  } catch {
    return undefined;
  }
}
