import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { CLOSE_CODES, ERROR_CATALOG, HEADERS, LIMITS, RELAY_PATHS, SluiceError } from '@sluice/shared-protocol';
import type { ConnectorBuild, RotateKeyRequest } from '@sluice/shared-protocol';
import type { Logger } from 'pino';
import type { AuditInput, InstanceRecord, RelayStore } from '../store/relay-store.js';
import { ChallengeBook, type ChallengeLedger } from './challenge-book.js';
import { ConnectorSession } from './connector-session.js';
import { verifyConnectorAuth, verifyKeyRotation } from './verify-connector-auth.js';

export interface HubOptions {
  heartbeatMs: number;
  helloTimeoutMs: number;
  challengeTtlMs: number;
  clockSkewMs: number;
  relayOrigin: () => string;
  clientIp: (req: IncomingMessage) => string | null;
  now: () => number;
  log: Logger;
  /** Audit a refused handshake (throttled per reason and source). */
  auditRefusal: (entry: AuditInput) => void;
  /** Where challenge nonces live (default: this process's memory). */
  challengeLedger?: ChallengeLedger;
  /** Told when a session becomes the instance's live one and when it goes (replicas publish where it lives). */
  presence?: { ready(s: ConnectorSession): void; gone(s: ConnectorSession): void };
}

/** A live session as admins see it. */
export interface SessionInfo {
  sessionId: string;
  instanceId: string;
  connectedAt: string;
  ip: string | null;
  connectorVersion: string;
  /** Null for a connector that does not report it (0.1.0). */
  connectorBuild: ConnectorBuild | null;
  protocolVersion: string;
  inFlight: number;
  workspaces: string[];
}

/**
 * The connector side of the relay: challenges, authenticated upgrades, one live session per instance,
 * heartbeats, and closing sessions of revoked or disabled instances.
 */
export class ConnectorHub {
  readonly challenges: ChallengeBook;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 2 * LIMITS.frameBytes + 64 * 1024, perMessageDeflate: false });
  private readonly sessions = new Map<string, ConnectorSession>();
  private readonly pendingSessions = new Set<ConnectorSession>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly store: RelayStore,
    private readonly opts: HubOptions,
  ) {
    this.challenges = new ChallengeBook(opts.challengeTtlMs, opts.now, opts.challengeLedger);
    this.heartbeat = setInterval(() => this.tick(), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  /** The ready session of an instance, if it is online. */
  get(instanceId: string): ConnectorSession | undefined {
    const s = this.sessions.get(instanceId);
    return s?.state === 'ready' ? s : undefined;
  }

  /** Ready sessions of an org. */
  sessionsOf(orgId: string): ConnectorSession[] {
    return [...this.sessions.values()].filter((s) => s.orgId === orgId && s.state === 'ready');
  }

  isOnline(instanceId: string): boolean {
    return this.get(instanceId) !== undefined;
  }

  listSessions(orgId: string): SessionInfo[] {
    return [...this.sessions.values()]
      .filter((s) => s.orgId === orgId && s.state === 'ready')
      .map((s) => ({
        sessionId: s.sessionId,
        instanceId: s.instanceId,
        connectedAt: new Date(s.connectedAt).toISOString(),
        ip: s.ip,
        connectorVersion: s.connectorVersion,
        connectorBuild: s.connectorBuild,
        protocolVersion: s.protocolVersion,
        inFlight: s.inFlight,
        workspaces: s.workspaces.map((w) => w.workspaceId),
      }));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Close the live session of an instance (revoked, disabled, key rotated); returns how many were open. */
  closeInstance(instanceId: string, code: number, reason: string): number {
    const open = [...this.pendingSessions].filter((s) => s.instanceId === instanceId);
    const live = this.sessions.get(instanceId);
    if (live) open.push(live);
    for (const s of open) s.close(code, reason);
    return open.length;
  }

  /** Read the instance from the store and close its sessions if it is no longer accepted; how many were closed. */
  async enforceInstanceState(instanceId: string): Promise<number> {
    const refusal = sessionRefusal(await this.store.getInstance(instanceId));
    return refusal ? this.closeInstance(instanceId, refusal.code, refusal.reason) : 0;
  }

  /**
   * Install a new instance key when the request is signed by the current one (and by the new one). The old key
   * stops working at once: its live session is closed and the connector comes back with the new key.
   */
  async rotateKey(body: RotateKeyRequest, ip: string | null): Promise<{ instanceId: string }> {
    const deps = { store: this.store, challenges: this.challenges, relayOrigin: this.opts.relayOrigin(), clockSkewMs: this.opts.clockSkewMs, now: this.opts.now() };
    const result = await verifyKeyRotation(body, deps);
    const audit = (orgId: string | null, outcome: string, detail: Record<string, unknown>) =>
      this.store.appendAudit({ orgId, actor: 'system:relay-connectors', action: 'connector.key_rotated', target: body.instanceId, outcome, ip, detail });
    if (!result.ok) {
      await audit(result.orgId, result.error.code, {});
      throw result.error;
    }
    const { instance } = result;
    if (!(await this.store.rotateInstanceKey(instance.id, instance.publicKey!, body.newPublicKey))) {
      await audit(instance.orgId, 'AUTH_FAILED', { reason: 'the key changed meanwhile' });
      throw new SluiceError('AUTH_FAILED', 'The instance key changed while this rotation was checked; fetch a new challenge and sign again.');
    }
    await audit(instance.orgId, 'ok', { oldPublicKey: instance.publicKey, newPublicKey: body.newPublicKey });
    this.opts.log.warn({ instanceId: instance.id, ip }, 'instance key rotated; sessions signed with the old key are closed');
    this.closeInstance(instance.id, CLOSE_CODES.goingAway, 'instance key rotated; reconnect with the new key');
    return { instanceId: instance.id };
  }

  /** The http server's `upgrade` listener: authenticate first, upgrade only when every check passed. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.inBackground(this.upgrade(req, socket, head), 'connector upgrade failed', () => socket.destroy());
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const ip = this.opts.clientIp(req);
    if (path !== RELAY_PATHS.connectorSocket) {
      refuse(socket, 404, { code: 'NOT_FOUND', message: ERROR_CATALOG.NOT_FOUND.message });
      return;
    }
    const header = req.headers[HEADERS.connectorAuth];
    const result = await verifyConnectorAuth(typeof header === 'string' ? header : undefined, {
      store: this.store,
      challenges: this.challenges,
      relayOrigin: this.opts.relayOrigin(),
      clockSkewMs: this.opts.clockSkewMs,
      now: this.opts.now(),
    });
    if (!result.ok) {
      this.opts.auditRefusal({
        orgId: result.orgId,
        actor: 'system:relay-connectors',
        action: 'connector.auth_failed',
        target: result.instanceId,
        outcome: result.error.code,
        ip,
        detail: {},
      });
      refuse(socket, result.error.status, result.error.toBody());
      return;
    }
    const instance = result.instance;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new ConnectorSession(
        instance.id,
        instance.orgId,
        ip,
        ws,
        { heartbeatMs: this.opts.heartbeatMs, helloTimeoutMs: this.opts.helloTimeoutMs, now: this.opts.now, log: this.opts.log },
        {
          onHello: (s, first) => this.onHello(s, first),
          onClose: (s, code, reason) => this.onClose(s, code, reason),
        },
      );
      this.pendingSessions.add(session);
      this.inBackground(this.store.appendAudit({
        orgId: instance.orgId,
        actor: `system:relay-connectors`,
        action: 'connector.connected',
        target: instance.id,
        outcome: 'ok',
        ip,
        detail: { sessionId: session.sessionId },
      }), 'audit of connector.connected failed');
    });
  }

  /** Close every session (relay shutdown). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const s of [...this.sessions.values(), ...this.pendingSessions]) s.close(CLOSE_CODES.goingAway, 'relay shutting down');
    this.wss.close();
  }

  private onHello(s: ConnectorSession, first: boolean): void {
    if (!first) return;
    this.pendingSessions.delete(s);
    const old = this.sessions.get(s.instanceId);
    this.sessions.set(s.instanceId, s);
    if (old && old !== s) this.replace(old, s);
    this.opts.presence?.ready(s);
    this.inBackground(this.store.touchInstance(s.instanceId, this.opts.now()), 'recording last-seen failed');
  }

  /**
   * One key, two live connectors: the second one either is the operator's (a restart, a second machine) or holds a
   * stolen key. The relay cannot tell which, so it says so loudly on every side: an audit row naming both peers, a
   * warning here, and a close reason the replaced connector logs and shows in its status.
   */
  private replace(old: ConnectorSession, by: { sessionId: string; ip: string | null; orgId: string; instanceId: string }): void {
    const peers = { replacedSessionId: old.sessionId, replacedIp: old.ip, sessionId: by.sessionId, ip: by.ip };
    this.inBackground(
      this.store.appendAudit({ orgId: by.orgId, actor: 'system:relay-connectors', action: 'connector.session_replaced', target: by.instanceId, outcome: 'ok', ip: by.ip, detail: peers }),
      'audit of connector.session_replaced failed',
    );
    this.opts.log.warn({ instanceId: by.instanceId, ...peers }, 'a second connector with the same instance key connected; the older session is closed (if the operator did not start it, the key is stolen: revoke the instance)');
    old.close(CLOSE_CODES.replaced, replacedReason(by.ip));
  }

  /** Another replica now holds this instance's live session: close ours, as a replacement on this relay would. */
  replacedElsewhere(instanceId: string, by: { sessionId: string; ip: string | null }): void {
    const live = this.sessions.get(instanceId);
    if (live && live.sessionId !== by.sessionId) this.replace(live, { ...by, orgId: live.orgId, instanceId });
  }

  private onClose(s: ConnectorSession, code: number, reason: string): void {
    this.pendingSessions.delete(s);
    if (this.sessions.get(s.instanceId) === s) {
      this.sessions.delete(s.instanceId);
      this.opts.presence?.gone(s);
    }
    this.inBackground(this.recordDisconnect(s, code, reason), 'recording a disconnect failed');
  }

  private async recordDisconnect(s: ConnectorSession, code: number, reason: string): Promise<void> {
    await this.store.touchInstance(s.instanceId, this.opts.now());
    await this.store.appendAudit({
      orgId: s.orgId,
      actor: 'system:relay-connectors',
      action: 'connector.disconnected',
      target: s.instanceId,
      outcome: String(code),
      ip: s.ip,
      detail: { sessionId: s.sessionId, reason: reason.slice(0, 200) },
    });
  }

  /** Store work started from a socket or timer callback: a failure is logged, never an unhandled rejection. */
  private inBackground(work: Promise<unknown>, what: string, onError?: () => void): void {
    work.catch((err: unknown) => {
      this.opts.log.error({ err }, what);
      onError?.();
    });
  }

  private tick(): void {
    this.inBackground(this.checkSessions(), 'checking live sessions failed');
  }

  private async checkSessions(): Promise<void> {
    for (const s of [...this.sessions.values()]) {
      // Catches revocations made with the CLI against the same database while the relay runs.
      const refusal = sessionRefusal(await this.store.getInstance(s.instanceId));
      if (refusal) s.close(refusal.code, refusal.reason);
      else s.tick();
    }
  }
}

/** How a session of an instance in this state is closed; undefined while the instance is accepted. */
function sessionRefusal(inst: InstanceRecord | undefined): { code: number; reason: string } | undefined {
  if (!inst || inst.state === 'revoked') return { code: CLOSE_CODES.revoked, reason: 'instance revoked' };
  if (inst.state === 'disabled') return { code: CLOSE_CODES.disabled, reason: 'instance disabled' };
  return undefined;
}

/** Close reasons are capped at 123 bytes; this one names where the new session came from. */
function replacedReason(ip: string | null): string {
  return `replaced by a newer session of this instance from ${ip ?? 'an unknown address'}`.slice(0, 123);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, body: { code: string; message: string }): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
