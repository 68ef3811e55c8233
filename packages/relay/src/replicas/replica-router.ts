import { randomBytes } from 'node:crypto';
import { isErrorCode, SluiceError, type ErrorCode, type WorkspaceSummary } from '@sluice/shared-protocol';
import type { Logger } from 'pino';
import type { ConnectorHub } from '../connectors/connector-hub.js';
import type { ConnectorSession, UpstreamAnswer } from '../connectors/connector-session.js';
import type { InstanceRoute, InstanceRoutes } from '../routing/instance-routes.js';
import type { PostgresRelayStore } from '../store/postgres-store.js';
import { replicaAliveSql, replicaApplicationName } from '../store/postgres/context.js';

/** Every replica hears which replica now holds an instance's session, and closes an older one of its own. */
export const TAKEOVER_CHANNEL = 'sluice_session_takeover';
/** How often a replica checks that the replicas its forwarded calls wait on are still alive. */
const SWEEP_MS = 1000;

const channelOf = (replicaId: string): string => `sluice_r_${replicaId.replace(/^rep_/, '')}`;
const appNameOf = replicaApplicationName;

/** What a forwarded call carries, and what comes back: the connector's answer, or the error the request failed with. */
interface ForwardedRequest {
  verb: string;
  input: unknown;
  actor: string;
  timeoutMs: number;
}
type ForwardedAnswer = { answer: UpstreamAnswer } | { failed: { code: string; message: string } };

interface Waiting {
  to: string;
  resolve(a: UpstreamAnswer): void;
  reject(e: SluiceError): void;
  timer: NodeJS.Timeout;
}

const ALIVE = replicaAliveSql('p.replica_id');

/**
 * Routes across replicas sharing one PostgreSQL database. `instance_presence` says which replica holds each live
 * connector session; a call for an instance held elsewhere is written to `forwarded_calls` and signalled to that
 * replica's channel, which runs it on its session and signals the answer back. Same timeouts and error codes as a
 * local call: the caller's own timer gives UPSTREAM_TIMEOUT, and a holder that dies fails the call with
 * INSTANCE_OFFLINE once.
 */
export class ReplicaRouter implements InstanceRoutes {
  private readonly waiting = new Map<string, Waiting>();
  private readonly sweep: NodeJS.Timeout;
  private readonly me: string;

  constructor(
    private readonly store: PostgresRelayStore,
    private readonly hub: () => ConnectorHub,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.me = store.replicaId;
    this.sweep = setInterval(() => void this.failCallsToDeadReplicas().catch((err: unknown) => this.log.warn({ err }, 'checking replicas failed')), SWEEP_MS);
    this.sweep.unref();
  }

  async start(): Promise<void> {
    await this.store.bus.on(channelOf(this.me), (payload) => this.onNotice(payload));
    await this.store.bus.on(TAKEOVER_CHANNEL, (payload) => this.onTakeover(payload));
  }

  /** The hub's presence hooks. */
  readonly presence = {
    ready: (s: ConnectorSession): void => this.background(this.publish(s), 'publishing a session failed'),
    gone: (s: ConnectorSession): void =>
      this.background(this.store.pool.query('DELETE FROM instance_presence WHERE instance_id = $1 AND session_id = $2', [s.instanceId, s.sessionId]), 'withdrawing a session failed'),
  };

  async find(instanceId: string): Promise<InstanceRoute | undefined> {
    const local = this.hub().get(instanceId);
    if (local) return local;
    const r = (await this.store.pool.query<{ replica_id: string; workspaces: string }>(`SELECT p.replica_id, p.workspaces FROM instance_presence p WHERE p.instance_id = $1 AND ${ALIVE}`, [instanceId])).rows[0];
    return r && r.replica_id !== this.me ? this.remote(instanceId, r.replica_id, r.workspaces) : undefined;
  }

  async ofOrg(orgId: string): Promise<InstanceRoute[]> {
    const local = this.hub().sessionsOf(orgId);
    const here = new Set(local.map((s) => s.instanceId));
    const rows = (await this.store.pool.query<{ instance_id: string; replica_id: string; workspaces: string }>(`SELECT p.instance_id, p.replica_id, p.workspaces FROM instance_presence p WHERE p.org_id = $1 AND p.replica_id <> $2 AND ${ALIVE}`, [orgId, this.me])).rows;
    return [...local, ...rows.filter((r) => !here.has(r.instance_id)).map((r) => this.remote(r.instance_id, r.replica_id, r.workspaces))];
  }

  /** Stop: calls waiting on other replicas fail as a local session's would. */
  close(): void {
    clearInterval(this.sweep);
    for (const id of [...this.waiting.keys()]) this.settle(id, new SluiceError('INSTANCE_OFFLINE'));
  }

  private async publish(s: ConnectorSession): Promise<void> {
    await this.store.pool.query(
      `INSERT INTO instance_presence (instance_id, org_id, replica_id, session_id, workspaces, connected_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (instance_id) DO UPDATE SET org_id = EXCLUDED.org_id, replica_id = EXCLUDED.replica_id, session_id = EXCLUDED.session_id, workspaces = EXCLUDED.workspaces, connected_at = EXCLUDED.connected_at`,
      [s.instanceId, s.orgId, this.me, s.sessionId, JSON.stringify(s.workspaces), this.now()],
    );
    await this.store.bus.notify(TAKEOVER_CHANNEL, JSON.stringify({ instanceId: s.instanceId, sessionId: s.sessionId, ip: s.ip, replicaId: this.me }));
  }

  private onTakeover(payload: string): void {
    const t = JSON.parse(payload) as { instanceId: string; sessionId: string; ip: string | null; replicaId: string };
    if (t.replicaId !== this.me) this.hub().replacedElsewhere(t.instanceId, { sessionId: t.sessionId, ip: t.ip });
  }

  private remote(instanceId: string, replicaId: string, workspaces: string): InstanceRoute {
    return {
      instanceId,
      workspaces: JSON.parse(workspaces) as WorkspaceSummary[],
      request: (verb, input, actor, timeoutMs) => this.forward(replicaId, instanceId, { verb, input, actor, timeoutMs }),
    };
  }

  private async forward(to: string, instanceId: string, req: ForwardedRequest): Promise<UpstreamAnswer> {
    const id = randomBytes(12).toString('hex');
    const answer = new Promise<UpstreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new SluiceError('UPSTREAM_TIMEOUT')), req.timeoutMs);
      this.waiting.set(id, { to, resolve, reject, timer });
    });
    try {
      await this.store.pool.query('INSERT INTO forwarded_calls (id, to_replica, from_replica, instance_id, request, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        id,
        to,
        this.me,
        instanceId,
        JSON.stringify(req),
        this.now(),
      ]);
      await this.store.bus.notify(channelOf(to), `call ${id}`);
    } catch (err) {
      this.settle(id, new SluiceError('INSTANCE_OFFLINE'));
      this.log.warn({ err }, 'forwarding a call failed');
    }
    return answer;
  }

  private onNotice(payload: string): void {
    const [kind, id] = payload.split(' ');
    if (kind === 'call' && id) this.background(this.serve(id), 'serving a forwarded call failed');
    if (kind === 'answer' && id) this.background(this.collect(id), 'collecting a forwarded answer failed');
  }

  /** Run a call another replica forwarded: taken once (the empty answer marks it taken), answered once. */
  private async serve(id: string): Promise<void> {
    const taken = (await this.store.pool.query<{ request: string; from_replica: string; instance_id: string; created_at: number }>(
      "UPDATE forwarded_calls SET answer = '' WHERE id = $1 AND to_replica = $2 AND answer IS NULL RETURNING request, from_replica, instance_id, created_at",
      [id, this.me],
    )).rows[0];
    if (!taken) return;
    const req = JSON.parse(taken.request) as ForwardedRequest;
    const session = this.hub().get(taken.instance_id);
    let out: ForwardedAnswer;
    try {
      if (!session) throw new SluiceError('INSTANCE_OFFLINE');
      const left = Math.max(1, req.timeoutMs - (this.now() - taken.created_at));
      out = { answer: await session.request(req.verb, req.input, req.actor, left) };
    } catch (err) {
      const e = err instanceof SluiceError ? err : new SluiceError('UPSTREAM_ERROR');
      out = { failed: { code: e.code, message: e.message } };
    }
    await this.store.pool.query('UPDATE forwarded_calls SET answer = $2 WHERE id = $1', [id, JSON.stringify(out)]);
    await this.store.bus.notify(channelOf(taken.from_replica), `answer ${id}`);
  }

  private async collect(id: string): Promise<void> {
    const r = (await this.store.pool.query<{ answer: string }>("DELETE FROM forwarded_calls WHERE id = $1 AND from_replica = $2 AND answer <> '' RETURNING answer", [id, this.me])).rows[0];
    if (!r) return;
    const out = JSON.parse(r.answer) as ForwardedAnswer;
    if ('answer' in out) this.settle(id, undefined, out.answer);
    else this.settle(id, new SluiceError(isErrorCode(out.failed.code) ? (out.failed.code as ErrorCode) : 'UPSTREAM_ERROR', out.failed.message));
  }

  private async failCallsToDeadReplicas(): Promise<void> {
    const targets = [...new Set([...this.waiting.values()].map((w) => w.to))];
    if (targets.length === 0) return;
    const alive = new Set(
      (await this.store.pool.query<{ application_name: string }>('SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name = ANY($1)', [targets.map(appNameOf)])).rows.map((r) => r.application_name),
    );
    for (const [id, w] of [...this.waiting]) if (!alive.has(appNameOf(w.to))) this.settle(id, new SluiceError('INSTANCE_OFFLINE'));
  }

  /** Settle a waiting call once; its row goes with it, so a late answer finds nothing to deliver. */
  private settle(id: string, error: SluiceError | undefined, answer?: UpstreamAnswer): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    if (error) {
      w.reject(error);
      this.background(this.store.pool.query('DELETE FROM forwarded_calls WHERE id = $1', [id]), 'dropping a forwarded call failed');
    } else w.resolve(answer!);
  }

  private background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) => this.log.warn({ err }, what));
  }
}
