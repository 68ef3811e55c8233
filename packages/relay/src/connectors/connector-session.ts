import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, ERROR_CATALOG, isErrorCode, LIMITS, negotiateProtocolVersion, parseFrame, SluiceError } from '@sluice/shared-protocol';
import type { ConnectorBuild, ErrorBody, Frame, HelloFrame, WorkspaceSummary } from '@sluice/shared-protocol';
import type { Logger } from 'pino';

/** Outcome of one request: the connector's answer, already checked for shape. */
export type UpstreamAnswer = { ok: true; output: unknown } | { ok: false; error: ErrorBody };

interface Pending {
  resolve: (a: UpstreamAnswer) => void;
  reject: (e: SluiceError) => void;
  timer: NodeJS.Timeout;
}

export type SessionState = 'awaiting_hello' | 'ready' | 'closed';

export interface SessionEvents {
  onHello(session: ConnectorSession, first: boolean): void;
  onClose(session: ConnectorSession, code: number, reason: string): void;
}

/**
 * One authenticated connector websocket. Owns its in-flight requests: when the socket goes, each of them fails at
 * once with INSTANCE_OFFLINE, and a late answer can never settle a request twice.
 */
export class ConnectorSession {
  readonly sessionId = randomBytes(9).toString('base64url');
  readonly connectedAt: number;
  state: SessionState = 'awaiting_hello';
  workspaces: WorkspaceSummary[] = [];
  connectorVersion = '';
  connectorBuild: ConnectorBuild | null = null;
  protocolVersion = '';
  missedPings = 0;
  private readonly pending = new Map<string, Pending>();
  private nextRequest = 0;
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    readonly instanceId: string,
    readonly orgId: string,
    readonly ip: string | null,
    private readonly ws: WebSocket,
    private readonly opts: { heartbeatMs: number; helloTimeoutMs: number; now: () => number; log: Logger },
    private readonly events: SessionEvents,
  ) {
    this.connectedAt = opts.now();
    this.helloTimer = setTimeout(() => this.close(CLOSE_CODES.protocolError, 'no hello'), opts.helloTimeoutMs);
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onSocketClosed(code, reason.toString('utf8')));
    ws.on('error', (err) => opts.log.warn({ err, instanceId }, 'connector socket error'));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Send one verb call and wait for its answer, the deadline, or the socket's end. */
  request(verb: string, input: unknown, actor: string, timeoutMs: number): Promise<UpstreamAnswer> {
    if (this.state !== 'ready') return Promise.reject(new SluiceError('INSTANCE_OFFLINE'));
    // Unique per session; the connector only echoes it back.
    const id = `${this.sessionId}-${(++this.nextRequest).toString(36)}`;
    const text = JSON.stringify({ type: 'request', id, verb, input, actor, deadlineMs: Math.min(timeoutMs, LIMITS.frameDeadlineMs) });
    if (Buffer.byteLength(text) > LIMITS.frameBytes) return Promise.reject(new SluiceError('PAYLOAD_TOO_LARGE'));
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new SluiceError('UPSTREAM_TIMEOUT'));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(text, (err) => {
        if (err) this.settle(id, undefined, new SluiceError('INSTANCE_OFFLINE'));
      });
    });
  }

  /** Heartbeat tick: close after two unanswered pings, else ping again. */
  tick(): void {
    if (this.state !== 'ready') return;
    if (this.missedPings >= 2) {
      this.close(CLOSE_CODES.heartbeatTimeout, 'heartbeat timeout');
      return;
    }
    this.missedPings++;
    this.sendFrame({ type: 'ping', ts: this.opts.now() });
  }

  /** Close with a relay close code; in-flight requests fail at once. */
  close(code: number, reason: string, errorFrame?: { code: string; message: string }): void {
    if (this.state === 'closed') return;
    if (errorFrame) this.sendFrame({ type: 'error', code: errorFrame.code, message: errorFrame.message, fatal: true });
    this.markClosed(code, reason);
    this.ws.close(code, reason.slice(0, 120));
    // A peer that never completes the closing handshake must not hold the socket.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  sendFrame(frame: Frame): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.close(CLOSE_CODES.protocolError, 'binary frames are not part of the protocol');
      return;
    }
    if (data.byteLength > LIMITS.frameBytes) {
      this.failOversized(data);
      return;
    }
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.sendFrame({ type: 'error', code: parsed.code, message: parsed.message, fatal: false });
      return;
    }
    const f = parsed.frame;
    switch (f.type) {
      case 'hello':
        this.onHello(f);
        return;
      case 'pong':
        this.missedPings = 0;
        return;
      case 'ping':
        this.sendFrame({ type: 'pong', ts: f.ts });
        return;
      case 'response':
        if (this.state !== 'ready') return;
        this.settle(f.id, f.ok ? { ok: true, output: f.output } : { ok: false, error: f.error! });
        return;
      case 'error':
        if (f.id) this.settle(f.id, { ok: false, error: { code: f.code, message: f.message } });
        if (f.fatal) this.close(CLOSE_CODES.normal, 'connector reported a fatal error');
        return;
      case 'goodbye':
        this.close(CLOSE_CODES.normal, 'goodbye');
        return;
      default:
        this.sendFrame({ type: 'error', code: 'BAD_REQUEST', message: `unexpected ${f.type} frame`, fatal: false });
    }
  }

  private onHello(f: HelloFrame): void {
    const version = negotiateProtocolVersion(f.protocolVersion);
    if (!version) {
      this.close(CLOSE_CODES.unsupportedVersion, 'unsupported protocol version', {
        code: 'UNSUPPORTED_PROTOCOL_VERSION',
        message: `protocol version ${f.protocolVersion} is not supported`,
      });
      return;
    }
    const first = this.state === 'awaiting_hello';
    clearTimeout(this.helloTimer);
    this.protocolVersion = version;
    this.connectorVersion = f.connectorVersion;
    this.connectorBuild = f.connectorBuild ?? null;
    this.workspaces = f.workspaces;
    this.state = 'ready';
    if (first) this.sendFrame({ type: 'welcome', protocolVersion: version, instanceId: this.instanceId, heartbeatMs: this.opts.heartbeatMs });
    this.events.onHello(this, first);
  }

  /** A frame over the bound: refuse the one request it answers, keep the socket. */
  private failOversized(data: Buffer): void {
    let id: unknown;
    try {
      id = (JSON.parse(data.toString('utf8')) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    if (typeof id === 'string') this.settle(id, undefined, new SluiceError('RESPONSE_TOO_LARGE'));
  }

  private settle(id: string, answer: UpstreamAnswer | undefined, error?: SluiceError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else if (answer && !answer.ok && !isErrorCode(answer.error.code)) p.reject(new SluiceError('UPSTREAM_ERROR', `${ERROR_CATALOG.UPSTREAM_ERROR.message} (${answer.error.code})`));
    else p.resolve(answer!);
  }

  private markClosed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, new SluiceError('INSTANCE_OFFLINE'));
    this.events.onClose(this, code, reason);
  }

  private onSocketClosed(code: number, reason: string): void {
    this.markClosed(code, reason || 'socket closed');
  }
}
