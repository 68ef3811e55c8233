import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  ChallengeFrame,
  ErrorBody,
  HEADERS,
  LIMITS,
  PROTOCOL_VERSION,
  SLUICE_VERSION,
  RELAY_PATHS,
  authSigningPayload,
  parseFrame,
} from '@sluice/shared-protocol';
import type { AuthFrame, HelloFrame, RequestFrame, WelcomeFrame, WorkspaceSummary } from '@sluice/shared-protocol';
import type { DaemonClient } from '../upstream/daemon-client.js';
import { signPayload } from '../identity/ed25519.js';
import { httpJson } from '../net/http-json.js';
import { relayHttpUrl, relaySocketUrl } from '../net/relay-url.js';
import { encode, handleRequest } from '../proxy/request-handler.js';
import type { SessionEnd } from './unrecoverable.js';
import { codeForCloseCode } from './unrecoverable.js';

/** The connector's version, sent in hello frames. */
export const CONNECTOR_VERSION = SLUICE_VERSION;

export interface SessionDeps {
  relayBase: URL;
  relayOrigin: string;
  instanceId: string;
  name: string;
  key: KeyObject;
  ca?: string | undefined;
  daemon: DaemonClient;
  /** The current share list (it may change while connected). */
  shares(): readonly string[];
  /** The workspace summaries to advertise. */
  workspaces(): Promise<WorkspaceSummary[]>;
  log: Logger;
  /** Until the welcome arrives, and for the challenge request. */
  handshakeTimeoutMs: number;
  /** How long a shutdown waits for in-flight requests before saying goodbye. */
  drainMs: number;
}

export interface SessionResult extends SessionEnd {
  /** When the welcome arrived, if it did. */
  welcomedAt?: number | undefined;
  /** The session ended because the connector is shutting down. */
  shutdown: boolean;
}

/**
 * Where a session is: `connecting` (challenge and upgrade), `authenticating` (socket open, hello sent, no welcome
 * yet), `open` (welcomed), `closing` (shutting down: draining, then goodbye), `closed` (its result is settled).
 */
export type SessionState = 'connecting' | 'authenticating' | 'open' | 'closing' | 'closed';

type Ending = Omit<SessionResult, 'welcomedAt'>;

const SHUTDOWN: Ending = { code: 'SHUTDOWN', message: 'shutting down', shutdown: true };

/**
 * One authenticated websocket session: challenge, signed upgrade, hello/welcome, heartbeats and requests. Ends (never
 * rejects) when the socket closes, the relay goes silent, the relay refuses, or `signal` aborts. Whatever ends it
 * first decides its result.
 */
export class RelaySession {
  private state: SessionState = 'connecting';
  private ws: WebSocket | undefined;
  private readonly inflight = new Set<string>();
  private lastHello = '';
  private welcomedAt: number | undefined;
  /** A fatal error frame or a goodbye from the relay, which name the reason when the socket then closes. */
  private fatal: { code: string; message: string } | undefined;
  private goodbye: { code?: string | undefined; reason: string } | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private silenceMs: number;
  private signal: AbortSignal | undefined;
  private readonly onAbort = (): void => void this.close();
  private settle: (r: SessionResult) => void = () => {};
  private readonly ended = new Promise<SessionResult>((resolve) => (this.settle = resolve));
  private closing: Promise<SessionResult> | undefined;
  /** Called when connected and welcomed. */
  onWelcome: (w: WelcomeFrame) => void = () => {};

  constructor(private readonly deps: SessionDeps) {
    this.silenceMs = deps.handshakeTimeoutMs;
  }

  /** Number of requests being served now. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  get lifecycle(): SessionState {
    return this.state;
  }

  async run(signal: AbortSignal): Promise<SessionResult> {
    const auth = await this.authenticate(signal);
    if ('shutdown' in auth) return auth;
    if (signal.aborted) return { ...SHUTDOWN };
    this.signal = signal;
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.open(auth);
    return this.ended;
  }

  /**
   * Stop: refuse new requests, let the ones in flight finish (bounded by `drainMs`), say goodbye. Idempotent: every
   * call gets the same promise of the session's result.
   */
  close(): Promise<SessionResult> {
    this.closing ??= this.drainAndSayGoodbye().then(() => this.finish(SHUTDOWN));
    return this.closing;
  }

  /** Send a new hello when the advertised workspaces changed (the relay replaces the previous list). */
  async refreshHello(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    await this.sendHello(ws, false);
  }

  private async authenticate(signal: AbortSignal): Promise<AuthFrame | SessionResult> {
    const { relayBase, instanceId } = this.deps;
    const url = relayHttpUrl(relayBase, RELAY_PATHS.connectorChallenge);
    url.searchParams.set('instanceId', instanceId);
    const res = await httpJson(url, { method: 'GET', ca: this.deps.ca, timeoutMs: this.deps.handshakeTimeoutMs, maxBytes: 64 * 1024 });
    if (signal.aborted) return { ...SHUTDOWN };
    if (res.kind !== 'response') {
      const detail = res.kind === 'unreachable' ? res.message : res.kind === 'timeout' ? 'timed out' : 'answer too large';
      return { code: 'RELAY_UNAVAILABLE', message: `cannot reach the relay at ${relayBase.origin} (${detail})`, shutdown: false };
    }
    if (res.status !== 200) return { ...refusal(res.status, res.body, 'challenge'), shutdown: false };
    const challenge = ChallengeFrame.safeParse(res.body);
    if (!challenge.success) return { code: 'RELAY_ERROR', message: 'the relay answered the challenge request with something that is not a challenge', shutdown: false };
    if (challenge.data.relayOrigin !== this.deps.relayOrigin) {
      // We sign the origin we enrolled with, never the one a relay claims, so a signature cannot be relayed elsewhere.
      this.deps.log.warn({ enrolledOrigin: this.deps.relayOrigin }, 'the relay names a different origin than the one this instance enrolled with');
    }
    const timestamp = Date.now();
    const payload = authSigningPayload({ nonce: challenge.data.nonce, instanceId, relayOrigin: this.deps.relayOrigin, timestamp });
    return { type: 'auth', instanceId, nonce: challenge.data.nonce, timestamp, signature: signPayload(this.deps.key, payload) };
  }

  /** The signed upgrade; the socket's events drive the session from here on. */
  private open(auth: AuthFrame): void {
    const ws = new WebSocket(relaySocketUrl(this.deps.relayBase, RELAY_PATHS.connectorSocket), {
      headers: { [HEADERS.connectorAuth]: Buffer.from(JSON.stringify(auth), 'utf8').toString('base64url') },
      ca: this.deps.ca,
      rejectUnauthorized: true,
      maxPayload: LIMITS.frameBytes,
      handshakeTimeout: this.deps.handshakeTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => this.onRefused(res));
    ws.on('error', (err: NodeJS.ErrnoException) => {
      void this.finish({ code: 'RELAY_UNAVAILABLE', message: `websocket error: ${err.code ?? err.message}`, shutdown: false });
    });
    ws.on('open', () => {
      if (this.state === 'connecting') this.state = 'authenticating';
      this.arm();
      this.lastHello = '';
      void this.sendHello(ws, true);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(ws, data, isBinary));
    ws.on('close', (closeCode: number, reason: Buffer) => {
      const byClose = codeForCloseCode(closeCode);
      const text = reason.toString('utf8').slice(0, 500);
      const code = byClose ?? this.fatal?.code ?? this.goodbye?.code ?? 'RELAY_CLOSED';
      const message = this.fatal?.message ?? (text || this.goodbye?.reason || `the relay closed the socket (code ${closeCode})`);
      void this.finish({ code, message, closeCode, shutdown: false });
    });
  }

  /** The relay answered the upgrade with an HTTP status: its error body names the refusal. */
  private onRefused(res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.byteLength;
      if (size <= 64 * 1024) chunks.push(c);
    });
    res.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      void this.finish({ ...refusal(res.statusCode ?? 0, body, 'upgrade'), shutdown: false });
    });
    res.on('error', () => void this.finish({ code: 'RELAY_ERROR', message: `the relay refused the upgrade with status ${res.statusCode ?? 0}`, shutdown: false }));
  }

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    this.arm();
    const parsed = parseFrame(isBinary ? data : data.toString('utf8'));
    if (!parsed.ok) {
      this.answerMalformed(ws, data, parsed.code, parsed.message);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case 'welcome':
        this.welcomed(frame);
        break;
      case 'ping':
        send(ws, JSON.stringify({ type: 'pong', ts: frame.ts }));
        break;
      case 'request':
        this.serve(ws, frame);
        break;
      case 'error':
        if (frame.fatal) this.fatal = { code: frame.code, message: frame.message };
        this.deps.log.warn({ code: frame.code, fatal: frame.fatal }, 'the relay sent an error frame');
        break;
      case 'goodbye':
        this.goodbye = { code: frame.code, reason: frame.reason };
        break;
      default:
        break;
    }
  }

  private welcomed(frame: WelcomeFrame): void {
    this.welcomedAt = Date.now();
    if (this.state === 'authenticating') this.state = 'open';
    this.silenceMs = Math.ceil(frame.heartbeatMs * 2.5);
    this.arm();
    this.deps.log.info({ instanceId: frame.instanceId, heartbeatMs: frame.heartbeatMs, protocolVersion: frame.protocolVersion }, 'connected to the relay');
    this.onWelcome(frame);
  }

  /** (Re)start the silence watchdog: a relay that sends nothing for `silenceMs` is gone. */
  private arm(): void {
    clearTimeout(this.watchdog);
    if (this.state === 'closed') return;
    const silenceMs = this.silenceMs;
    this.watchdog = setTimeout(() => {
      this.deps.log.warn({ silenceMs }, 'the relay went silent; dropping the socket');
      void this.finish({ code: 'HEARTBEAT_TIMEOUT', message: `no frame from the relay for ${silenceMs} ms`, shutdown: false });
    }, silenceMs);
  }

  /** Settle the session's result once; the cleanups run in order, and one that throws does not skip the others. */
  private finish(r: Ending): Promise<SessionResult> {
    if (this.state === 'closed') return this.ended;
    this.state = 'closed';
    const ws = this.ws;
    const cleanups: (() => void)[] = [
      () => clearTimeout(this.watchdog),
      () => this.signal?.removeEventListener('abort', this.onAbort),
      () => (this.ws = undefined),
      () => {
        if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.terminate();
      },
      () => {
        if (this.inflight.size > 0) this.deps.log.warn({ inflight: this.inflight.size }, 'socket ended with requests in flight; the relay fails them, their answers are dropped');
      },
    ];
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch (err) {
        this.deps.log.warn({ err }, 'a session cleanup failed');
      }
    }
    this.settle({ ...r, welcomedAt: this.welcomedAt });
    return this.ended;
  }

  private async sendHello(ws: WebSocket, force: boolean): Promise<void> {
    const workspaces = await this.deps.workspaces();
    const hello: HelloFrame = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      connectorVersion: CONNECTOR_VERSION,
      name: this.deps.name,
      workspaces,
    };
    const text = JSON.stringify(hello);
    if (!force && text === this.lastHello) return;
    this.lastHello = text;
    send(ws, text);
  }

  private serve(ws: WebSocket, frame: RequestFrame): void {
    const { log } = this.deps;
    if (this.inflight.has(frame.id)) {
      log.warn({ requestId: frame.id }, 'duplicate request id while in flight; ignored so it is answered once');
      return;
    }
    if (this.state === 'closing' || this.state === 'closed') {
      send(ws, encode(frame.id, { ok: false, error: { code: 'UNAVAILABLE', message: 'the connector is shutting down' } }));
      return;
    }
    this.inflight.add(frame.id);
    void handleRequest(frame, { daemon: this.deps.daemon, shares: [...this.deps.shares()], log })
      .then((answer) => {
        if (ws.readyState === WebSocket.OPEN) send(ws, answer);
        else log.warn({ requestId: frame.id }, 'answer dropped: the socket it came on is gone');
      })
      .finally(() => this.inflight.delete(frame.id));
  }

  /** A frame that did not parse: answer a request we can still identify, otherwise send a non-fatal error frame. */
  private answerMalformed(ws: WebSocket, data: Buffer, code: string, message: string): void {
    let id: string | undefined;
    try {
      const value = JSON.parse(data.toString('utf8')) as { type?: unknown; id?: unknown };
      if (value.type === 'request' && typeof value.id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value.id)) id = value.id;
    } catch {
      id = undefined;
    }
    const errCode = code === 'PAYLOAD_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : code === 'MALFORMED_JSON' ? 'MALFORMED_JSON' : 'INVALID_INPUT';
    if (id && !this.inflight.has(id)) send(ws, encode(id, { ok: false, error: { code: errCode, message } }));
    else send(ws, JSON.stringify({ type: 'error', code: errCode, message, fatal: false }));
    this.deps.log.warn({ code: errCode }, 'malformed frame from the relay');
  }

  private async drainAndSayGoodbye(): Promise<void> {
    const ws = this.ws;
    if (this.state === 'closed' || !ws) return;
    this.state = 'closing';
    const deadline = Date.now() + this.deps.drainMs;
    while (this.inflight.size > 0 && Date.now() < deadline && ws.readyState === WebSocket.OPEN) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (ws.readyState === WebSocket.OPEN) {
      send(ws, JSON.stringify({ type: 'goodbye', reason: 'connector shutting down' }));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close(1000, 'goodbye');
      });
    }
  }
}

function send(ws: WebSocket, text: string): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(text);
}

function refusal(status: number, body: unknown, what: string): SessionEnd {
  const parsed = ErrorBody.safeParse(body);
  if (parsed.success) return { code: parsed.data.code, message: parsed.data.message };
  return { code: 'RELAY_ERROR', message: `the relay refused the ${what} with status ${status}` };
}
