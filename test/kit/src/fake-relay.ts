import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import {
  AuthFrame,
  CLOSE_CODES,
  EnrollRequest,
  HEADERS,
  PROTOCOL_VERSION,
  RELAY_PATHS,
  authSigningPayload,
  newId,
  parseFrame,
} from '@sluice/shared-protocol';
import type { Frame, GoodbyeFrame, HelloFrame, ResponseFrame } from '@sluice/shared-protocol';
import { FrameTap } from './frame-tap.js';

type InstanceState = 'active' | 'revoked' | 'disabled';

/** One accepted connector socket, as the relay sees it; every frame it received is also on the tap. */
export class FakeSession extends FrameTap {
  hellos: HelloFrame[] = [];
  pongs = 0;
  goodbyes: GoodbyeFrame[] = [];
  private readonly waiting = new Map<string, (f: ResponseFrame) => void>();
  private helloWaiters: Array<() => void> = [];

  constructor(
    ws: WebSocket,
    readonly instanceId: string,
    private readonly relay: FakeRelay,
  ) {
    super(ws);
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** @internal */
  onFrame(frame: Frame): void {
    if (frame.type === 'hello') {
      this.hellos.push(frame);
      if (this.hellos.length === 1 && this.relay.refuseVersion) {
        this.send({ type: 'error', code: 'UNSUPPORTED_PROTOCOL_VERSION', message: 'this relay speaks 2099-01-01 only', fatal: true });
        this.ws.close(CLOSE_CODES.unsupportedVersion, 'unsupported protocol version');
      } else if (this.hellos.length === 1) {
        this.send({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, instanceId: this.instanceId, heartbeatMs: this.relay.heartbeatMs });
      }
      for (const w of this.helloWaiters.splice(0)) w();
    } else if (frame.type === 'pong') {
      this.pongs += 1;
    } else if (frame.type === 'goodbye') {
      this.goodbyes.push(frame);
    } else if (frame.type === 'response') {
      this.relay.responseCounts.set(frame.id, (this.relay.responseCounts.get(frame.id) ?? 0) + 1);
      this.relay.responses.push(frame);
      this.waiting.get(frame.id)?.(frame);
      this.waiting.delete(frame.id);
    }
  }

  /** Send a request frame and wait for its response (rejects when the socket closes first). */
  request(verb: string, input: unknown, opts: { actor?: string; deadlineMs?: number; id?: string } = {}): Promise<ResponseFrame> {
    const id = opts.id ?? `req_${randomBytes(6).toString('hex')}`;
    const p = new Promise<ResponseFrame>((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.ws.once('close', () => reject(new Error(`socket closed before the response to ${id}`)));
    });
    this.send({ type: 'request', id, verb, input, actor: opts.actor ?? 'planner:org_test/tok_test', deadlineMs: opts.deadlineMs ?? 10_000 });
    return p;
  }

  /** Resolves once at least `n` hellos arrived on this session. */
  async waitForHellos(n: number): Promise<void> {
    while (this.hellos.length < n) await new Promise<void>((r) => this.helloWaiters.push(r));
  }
}

/**
 * A relay stand-in over the real medium: an HTTP server with the enroll and challenge endpoints and a `ws` server
 * that verifies the signed auth header (with node:crypto) before completing the upgrade, then scripts frames.
 */
export class FakeRelay {
  readonly enrollTokens = new Set<string>();
  readonly enrollBodies: unknown[] = [];
  readonly instances = new Map<string, { publicKey: string; state: InstanceState }>();
  readonly upgrades: Array<{ status: number; code?: string }> = [];
  readonly sessions: FakeSession[] = [];
  readonly responses: ResponseFrame[] = [];
  readonly responseCounts = new Map<string, number>();
  heartbeatMs = 1000;
  /** Answer hellos with a fatal UNSUPPORTED_PROTOCOL_VERSION error and close code 4004. */
  refuseVersion = false;
  /** When false the relay sends no pings (to test the connector's silence detection). */
  pinging = true;
  private readonly nonces = new Map<string, { used: boolean; expiresAt: number }>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private sessionWaiters: Array<() => void> = [];
  private pinger: NodeJS.Timeout | undefined;

  private constructor(
    private readonly server: Server,
    private readonly scheme: 'http' | 'https',
  ) {}

  static async start(opts: { heartbeatMs?: number; pinging?: boolean; tls?: { key: string; cert: string } } = {}): Promise<FakeRelay> {
    const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }) : createServer();
    const relay = new FakeRelay(server, opts.tls ? 'https' : 'http');
    if (opts.heartbeatMs) relay.heartbeatMs = opts.heartbeatMs;
    if (opts.pinging !== undefined) relay.pinging = opts.pinging;
    server.on('request', (req, res) => relay.onHttp(req, res));
    server.on('upgrade', (req, socket, head) => relay.onUpgrade(req, socket, head));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    relay.pinger = setInterval(() => {
      if (!relay.pinging) return;
      for (const s of relay.sessions) if (!s.isClosed) s.send({ type: 'ping', ts: Date.now() });
    }, relay.heartbeatMs);
    return relay;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `${this.scheme}://127.0.0.1:${port}`;
  }

  /** The origin this relay signs into challenges and enrollment answers. */
  get origin(): string {
    return this.url;
  }

  addEnrollToken(): string {
    const token = `slc_enr_${randomBytes(12).toString('hex')}`;
    this.enrollTokens.add(token);
    return token;
  }

  /** Register a connector identity the relay lets in without enrollment (its Ed25519 public key, JWK `x`). */
  addInstance(instanceId: string, publicKey: string): void {
    this.instances.set(instanceId, { publicKey, state: 'active' });
  }

  /** Wait until `n` sessions (counting closed ones) have said hello. */
  async waitForSession(n: number): Promise<FakeSession> {
    for (;;) {
      const withHello = this.sessions.filter((s) => s.hellos.length > 0);
      if (withHello.length >= n) return withHello[n - 1]!;
      await new Promise<void>((r) => this.sessionWaiters.push(r));
    }
  }

  /** Drop every socket without a close frame, as a network failure would. */
  dropAll(): void {
    for (const s of this.sessions) if (!s.isClosed) s.ws.terminate();
  }

  setState(instanceId: string, state: InstanceState): void {
    const inst = this.instances.get(instanceId);
    if (!inst) throw new Error('no such instance');
    inst.state = state;
    const code = state === 'revoked' ? CLOSE_CODES.revoked : state === 'disabled' ? CLOSE_CODES.disabled : undefined;
    if (code) for (const s of this.sessions) if (!s.isClosed && s.instanceId === instanceId) s.ws.close(code, state);
  }

  private closing: Promise<void> | undefined;

  /** Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    clearInterval(this.pinger);
    for (const s of this.sessions) s.ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname === RELAY_PATHS.enroll) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return this.json(res, 400, { code: 'MALFORMED_JSON', message: 'bad json' });
        }
        this.enrollBodies.push(body);
        const parsed = EnrollRequest.safeParse(body);
        if (!parsed.success) return this.json(res, 400, { code: 'INVALID_INPUT', message: 'bad enroll request' });
        if (!this.enrollTokens.delete(parsed.data.token)) return this.json(res, 401, { code: 'ENROLLMENT_TOKEN_INVALID', message: 'The enrollment token is invalid, used or expired.' });
        const instanceId = newId('instance', (n) => randomBytes(n));
        this.instances.set(instanceId, { publicKey: parsed.data.publicKey, state: 'active' });
        return this.json(res, 200, { instanceId, orgId: 'org_test', relayOrigin: this.origin });
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === RELAY_PATHS.connectorChallenge) {
      const nonce = randomBytes(32).toString('base64url');
      const now = Date.now();
      this.nonces.set(nonce, { used: false, expiresAt: now + 30_000 });
      return this.json(res, 200, { type: 'challenge', nonce, relayOrigin: this.origin, serverTime: now, expiresAt: now + 30_000 });
    }
    if (url.pathname === '/healthz') return this.json(res, 200, { ok: true, version: 'fake' });
    this.json(res, 404, { code: 'NOT_FOUND', message: 'Not found.' });
  }

  private refuse(socket: Duplex, status: number, code: string): void {
    this.upgrades.push({ status, code });
    const body = JSON.stringify({ code, message: `refused: ${code}` });
    socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.url);
    if (url.pathname !== RELAY_PATHS.connectorSocket) return this.refuse(socket, 404, 'NOT_FOUND');
    const header = req.headers[HEADERS.connectorAuth];
    let auth: AuthFrame;
    try {
      auth = AuthFrame.parse(JSON.parse(Buffer.from(String(header), 'base64url').toString('utf8')));
    } catch {
      return this.refuse(socket, 401, 'AUTH_FAILED');
    }
    const nonce = this.nonces.get(auth.nonce);
    if (!nonce || nonce.expiresAt < Date.now()) return this.refuse(socket, 401, 'AUTH_FAILED');
    if (nonce.used) return this.refuse(socket, 401, 'SIGNATURE_REPLAYED');
    nonce.used = true;
    if (Math.abs(auth.timestamp - Date.now()) > 60_000) return this.refuse(socket, 401, 'CLOCK_SKEW');
    const inst = this.instances.get(auth.instanceId);
    if (!inst) return this.refuse(socket, 404, 'INSTANCE_NOT_FOUND');
    if (inst.state === 'revoked') return this.refuse(socket, 401, 'INSTANCE_REVOKED');
    if (inst.state === 'disabled') return this.refuse(socket, 403, 'INSTANCE_DISABLED');
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: inst.publicKey }, format: 'jwk' });
    const payload = authSigningPayload({ nonce: auth.nonce, instanceId: auth.instanceId, relayOrigin: this.origin, timestamp: auth.timestamp });
    if (!verify(null, Buffer.from(payload, 'utf8'), key, Buffer.from(auth.signature, 'base64url'))) return this.refuse(socket, 401, 'AUTH_FAILED');
    this.upgrades.push({ status: 101 });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new FakeSession(ws, auth.instanceId, this);
      this.sessions.push(session);
      ws.on('message', (data: Buffer) => {
        const parsed = parseFrame(data.toString('utf8'));
        if (!parsed.ok) throw new Error(`the connector sent an invalid frame: ${parsed.message}`);
        session.onFrame(parsed.frame);
        if (parsed.frame.type === 'hello' && session.hellos.length === 1) for (const w of this.sessionWaiters.splice(0)) w();
      });
    });
  }
}
