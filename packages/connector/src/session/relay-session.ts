import type { KeyObject } from 'node:crypto';
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
 * One authenticated websocket session: challenge, signed upgrade, hello/welcome, heartbeats and requests. Ends (never
 * rejects) when the socket closes, the relay goes silent, the relay refuses, or `signal` aborts.
 */
export class RelaySession {
  private ws: WebSocket | undefined;
  private readonly inflight = new Set<string>();
  private lastHello = '';
  private draining = false;
  /** Called when connected and welcomed. */
  onWelcome: (w: WelcomeFrame) => void = () => {};

  constructor(private readonly deps: SessionDeps) {}

  /** Number of requests being served now. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  async run(signal: AbortSignal): Promise<SessionResult> {
    const auth = await this.authenticate(signal);
    if ('shutdown' in auth) return auth;
    if (signal.aborted) return { code: 'SHUTDOWN', message: 'shutting down', shutdown: true };
    return this.connect(auth, signal);
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
    if (signal.aborted) return { code: 'SHUTDOWN', message: 'shutting down', shutdown: true };
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

  private connect(auth: AuthFrame, signal: AbortSignal): Promise<SessionResult> {
    const { log } = this.deps;
    return new Promise<SessionResult>((resolve) => {
      let welcomedAt: number | undefined;
      let fatal: { code: string; message: string } | undefined;
      let goodbye: { code?: string | undefined; reason: string } | undefined;
      let ended = false;
      let watchdog: NodeJS.Timeout | undefined;
      let silenceMs = this.deps.handshakeTimeoutMs;

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

      const finish = (r: Omit<SessionResult, 'welcomedAt'>): void => {
        if (ended) return;
        ended = true;
        clearTimeout(watchdog);
        signal.removeEventListener('abort', onAbort);
        if (this.ws === ws) this.ws = undefined;
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
        if (this.inflight.size > 0) log.warn({ inflight: this.inflight.size }, 'socket ended with requests in flight; the relay fails them, their answers are dropped');
        resolve({ ...r, welcomedAt });
      };
      const arm = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          log.warn({ silenceMs }, 'the relay went silent; dropping the socket');
          finish({ code: 'HEARTBEAT_TIMEOUT', message: `no frame from the relay for ${silenceMs} ms`, shutdown: false });
        }, silenceMs);
      };
      const onAbort = (): void => {
        void this.shutdown(ws).then(() => finish({ code: 'SHUTDOWN', message: 'shutting down', shutdown: true }));
      };
      signal.addEventListener('abort', onAbort, { once: true });

      ws.on('unexpected-response', (_req, res) => {
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
          finish({ ...refusal(res.statusCode ?? 0, body, 'upgrade'), shutdown: false });
        });
        res.on('error', () => finish({ code: 'RELAY_ERROR', message: `the relay refused the upgrade with status ${res.statusCode ?? 0}`, shutdown: false }));
      });
      ws.on('error', (err: NodeJS.ErrnoException) => {
        finish({ code: 'RELAY_UNAVAILABLE', message: `websocket error: ${err.code ?? err.message}`, shutdown: false });
      });
      ws.on('open', () => {
        arm();
        this.lastHello = '';
        void this.sendHello(ws, true);
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        arm();
        const parsed = parseFrame(isBinary ? data : data.toString('utf8'));
        if (!parsed.ok) {
          this.answerMalformed(ws, data, parsed.code, parsed.message);
          return;
        }
        const frame = parsed.frame;
        switch (frame.type) {
          case 'welcome':
            welcomedAt = Date.now();
            silenceMs = Math.ceil(frame.heartbeatMs * 2.5);
            arm();
            log.info({ instanceId: frame.instanceId, heartbeatMs: frame.heartbeatMs, protocolVersion: frame.protocolVersion }, 'connected to the relay');
            this.onWelcome(frame);
            break;
          case 'ping':
            send(ws, JSON.stringify({ type: 'pong', ts: frame.ts }));
            break;
          case 'request':
            this.serve(ws, frame);
            break;
          case 'error':
            if (frame.fatal) fatal = { code: frame.code, message: frame.message };
            log.warn({ code: frame.code, fatal: frame.fatal }, 'the relay sent an error frame');
            break;
          case 'goodbye':
            goodbye = { code: frame.code, reason: frame.reason };
            break;
          default:
            break;
        }
      });
      ws.on('close', (closeCode: number, reason: Buffer) => {
        const byClose = codeForCloseCode(closeCode);
        const text = reason.toString('utf8').slice(0, 500);
        const code = byClose ?? fatal?.code ?? goodbye?.code ?? 'RELAY_CLOSED';
        const message = fatal?.message ?? (text || goodbye?.reason || `the relay closed the socket (code ${closeCode})`);
        finish({ code, message, closeCode, shutdown: false });
      });
    });
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
    if (this.draining) {
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

  private async shutdown(ws: WebSocket): Promise<void> {
    this.draining = true;
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
