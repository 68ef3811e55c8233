import { getVerb, hasScope, idPattern, NOT_FOUND_BY_ID_FIELD, ownedIdsOf, SluiceError, VERBS, zodDetails } from '@sluice/shared-protocol';
import type { Instance, OwnedIdField, VerbIdempotency, VerbName, VerbSpec } from '@sluice/shared-protocol';
import { verbInputHash } from '@sluice/node-kit';
import type { Principal } from '../auth/principal.js';
import { mayUseInstance } from '../auth/principal.js';
import type { RelayStore } from '../store/relay-store.js';
import type { InstanceRoutes } from './instance-routes.js';
import { withinScopes } from './output-scopes.js';

/** How often a call waiting on another relay's claim of its idempotency key looks for the answer. */
const CLAIM_POLL_MS = 100;

const OWNED_ID = [idPattern('run'), idPattern('step'), idPattern('attempt'), idPattern('gate')];

/** Where a call came from, for the audit row. */
export interface CallContext {
  ip: string | null;
  via: 'api' | 'mcp' | 'sse';
  /** Aborted (with a SluiceError reason) when the caller's credential no longer holds: the call fails with it. */
  signal?: AbortSignal;
}

/** The promise, or the signal's reason as soon as it aborts (the upstream answer is then dropped). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The one path every planner call takes, whether it came over /api/v2 or /mcp: validate, check scope and org,
 * route to an instance, wait for the answer, check its shape, record id ownership, audit.
 */
export class Dispatcher {
  private readonly inFlightDispatch = new Map<string, { inputHash: string; answer: Promise<unknown> }>();
  /** Long polls open per caller: each holds a connector slot and a daemon connection for up to 30 s. */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly store: RelayStore,
    private readonly routes: InstanceRoutes,
    private readonly opts: { requestTimeoutMs: number; maxWaitingCallsPerCaller: number; dispatchAnswerTtlMs: number },
  ) {}

  async call(principal: Principal, verbName: string, rawInput: unknown, ctx: CallContext): Promise<unknown> {
    let target: string | null = null;
    let instanceId: string | null = null;
    try {
      ctx.signal?.throwIfAborted();
      const spec = getVerb(verbName);
      if (!spec) throw new SluiceError('UNKNOWN_VERB');
      if (!hasScope(principal.scopes, spec.scope)) throw new SluiceError('INSUFFICIENT_SCOPE', `The token lacks the scope ${spec.scope} that ${spec.name} needs.`);
      const parsed = spec.input.safeParse(rawInput === undefined ? {} : rawInput);
      if (!parsed.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(parsed.error));
      const input = parsed.data as Record<string, unknown>;
      if (spec.route.kind === 'relay') {
        const out = await this.listInstances(principal);
        await this.audit(principal, spec.name, null, null, 'ok', ctx);
        return out;
      }
      if (spec.route.kind === 'owner') {
        target = input[spec.route.field] as string;
        instanceId = await this.ownerOf(principal, target, spec.route.field);
      } else {
        instanceId = await this.pickInstance(principal, input);
        target = instanceId;
      }
      const chosen = instanceId;
      const send = (): Promise<unknown> => this.forward(principal, spec, chosen, input, ctx.signal);
      const idem = spec.idempotency;
      const key = idem ? input[idem.field] : undefined;
      const output = idem && typeof key === 'string' ? await this.callOnce(principal, spec, idem, chosen, key, input, send) : await send();
      await this.audit(principal, spec.name, target, instanceId, 'ok', ctx);
      return output;
    } catch (err) {
      const code = err instanceof SluiceError ? err.code : 'INTERNAL';
      await this.audit(principal, verbName, target, instanceId, code, ctx);
      throw err;
    }
  }

  private async forward(principal: Principal, spec: VerbSpec, instanceId: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const session = await this.routes.find(instanceId);
    if (!session) throw new SluiceError('INSTANCE_OFFLINE');
    const waits = spec.wait ? ((input[spec.wait.field] as number | undefined) ?? spec.wait.defaultMs) : 0;
    const request = (timeoutMs: number) => untilAborted(session.request(spec.name, input, principal.actor, timeoutMs), signal);
    const answer = waits > 0 ? await this.whileWaiting(principal.actor, () => request(this.opts.requestTimeoutMs + waits)) : await request(this.opts.requestTimeoutMs);
    if (!answer.ok) throw SluiceError.fromBody(answer.error);
    const out = spec.output.safeParse(answer.output);
    if (!out.success) throw new SluiceError('UPSTREAM_ERROR', 'The instance answered with output that does not match the verb schema.');
    await this.recordOwners(principal.orgId, instanceId, spec, out.data);
    return withinScopes(spec.name, out.data, principal.scopes);
  }

  /** Run a long poll, refusing it with RATE_LIMITED when the caller already holds the most it may. */
  private async whileWaiting<T>(caller: string, poll: () => Promise<T>): Promise<T> {
    const open = this.waiting.get(caller) ?? 0;
    if (open >= this.opts.maxWaitingCallsPerCaller) {
      throw new SluiceError('RATE_LIMITED', `At most ${this.opts.maxWaitingCallsPerCaller} waiting calls (events.list with waitMs, steps.wait, event streams) per caller at once.`);
    }
    this.waiting.set(caller, open + 1);
    try {
      return await poll();
    } finally {
      const left = (this.waiting.get(caller) ?? 1) - 1;
      if (left > 0) this.waiting.set(caller, left);
      else this.waiting.delete(caller);
    }
  }

  /**
   * One call per (org, route id, key) within the answer TTL: a stored answer is replayed (read back from its
   * instance as it is now), a call in flight is joined. Only the input's hash and the answer's id are stored.
   */
  private async callOnce(principal: Principal, spec: VerbSpec, idem: VerbIdempotency, instanceId: string, key: string, input: Record<string, unknown>, send: () => Promise<unknown>): Promise<unknown> {
    const { orgId } = principal;
    const scopeId = spec.route.kind === 'owner' ? (input[spec.route.field] as string) : instanceId;
    const inputHash = verbInputHash(spec.name as VerbName, input);
    const stored = await this.store.getDispatchAnswer(orgId, scopeId, key, this.opts.dispatchAnswerTtlMs);
    if (stored) {
      if (stored.inputHash !== inputHash) throw new SluiceError('IDEMPOTENCY_CONFLICT');
      return this.replay(principal, spec, idem, instanceId, stored.stepId);
    }
    const k = JSON.stringify([orgId, scopeId, key]);
    const running = this.inFlightDispatch.get(k);
    if (running) {
      // Joining a call in flight is only a replay when it is the same request.
      if (running.inputHash !== inputHash) throw new SluiceError('IDEMPOTENCY_CONFLICT');
      return await running.answer;
    }
    const p = this.claimAndSend(principal, spec, idem, instanceId, scopeId, key, inputHash, send);
    this.inFlightDispatch.set(k, { inputHash, answer: p });
    try {
      return await p;
    } finally {
      this.inFlightDispatch.delete(k);
    }
  }

  /**
   * The key's row in the store is the lock every relay sharing it respects: the claimant sends, any other caller
   * (another replica) waits for the answer's step id and replays it. A failed send releases the claim.
   */
  private async claimAndSend(principal: Principal, spec: VerbSpec, idem: VerbIdempotency, instanceId: string, scopeId: string, key: string, inputHash: string, send: () => Promise<unknown>): Promise<unknown> {
    const { orgId } = principal;
    const ttlMs = this.opts.dispatchAnswerTtlMs;
    const deadline = Date.now() + this.opts.requestTimeoutMs;
    for (;;) {
      const claim = await this.store.claimDispatch(orgId, scopeId, key, inputHash, { ttlMs, staleMs: 2 * this.opts.requestTimeoutMs });
      if (claim === true) {
        let output: unknown;
        try {
          output = await send();
        } catch (err) {
          await this.store.releaseDispatch(orgId, scopeId, key, inputHash);
          throw err;
        }
        await this.store.putDispatchAnswer(orgId, scopeId, key, { inputHash, stepId: (output as Record<string, string>)[idem.answerField]! }, ttlMs);
        return output;
      }
      if (claim.inputHash !== inputHash) throw new SluiceError('IDEMPOTENCY_CONFLICT');
      if (claim.stepId !== null) return this.replay(principal, spec, idem, instanceId, claim.stepId);
      if (Date.now() > deadline) throw new SluiceError('UPSTREAM_TIMEOUT');
      await new Promise((r) => setTimeout(r, CLAIM_POLL_MS));
    }
  }

  private async replay(principal: Principal, spec: VerbSpec, idem: VerbIdempotency, instanceId: string, id: string): Promise<unknown> {
    const { replayVerb, answerField } = idem;
    const detail = await this.forward(principal, VERBS[replayVerb], instanceId, { [answerField]: id });
    const answer = spec.output.safeParse({ ...(detail as Record<string, unknown>), replayed: true });
    if (!answer.success) throw new SluiceError('UPSTREAM_ERROR', 'The instance answered with output that does not match the verb schema.');
    return answer.data;
  }

  private async ownerOf(principal: Principal, id: string, field: OwnedIdField): Promise<string> {
    const owner = await this.store.getOwner(principal.orgId, id);
    // Unknown, other-org and not-allowlisted ids all answer the same.
    if (!owner || !mayUseInstance(principal, owner)) throw new SluiceError(NOT_FOUND_BY_ID_FIELD[field]);
    return owner;
  }

  private async pickInstance(principal: Principal, input: Record<string, unknown>): Promise<string> {
    const workspaceId = typeof input.workspaceId === 'string' ? input.workspaceId : undefined;
    if (typeof input.instanceId === 'string') {
      const inst = await this.store.getInstance(input.instanceId);
      if (!inst || inst.orgId !== principal.orgId || inst.state === 'revoked' || !mayUseInstance(principal, inst.id)) throw new SluiceError('INSTANCE_NOT_FOUND');
      if (inst.state === 'disabled') throw new SluiceError('INSTANCE_DISABLED');
      const session = await this.routes.find(inst.id);
      if (!session) throw new SluiceError('INSTANCE_OFFLINE');
      if (workspaceId !== undefined && !session.workspaces.some((w) => w.workspaceId === workspaceId)) throw new SluiceError('WORKSPACE_NOT_FOUND');
      return inst.id;
    }
    // Live sessions only exist for active instances: disabling or revoking closes them.
    const candidates = (await this.routes.ofOrg(principal.orgId))
      .filter((s) => mayUseInstance(principal, s.instanceId))
      .filter((s) => workspaceId === undefined || s.workspaces.some((w) => w.workspaceId === workspaceId));
    if (candidates.length === 0) throw new SluiceError(workspaceId === undefined ? 'INSTANCE_OFFLINE' : 'WORKSPACE_NOT_FOUND');
    if (candidates.length > 1) throw new SluiceError('INSTANCE_AMBIGUOUS');
    return candidates[0]!.instanceId;
  }

  private async listInstances(principal: Principal): Promise<{ instances: Instance[] }> {
    const online = new Map((await this.routes.ofOrg(principal.orgId)).map((r) => [r.instanceId, r]));
    const instances = (await this.store.listInstances(principal.orgId))
      .filter((i) => i.state !== 'revoked' && mayUseInstance(principal, i.id))
      .map((i): Instance => {
        const s = online.get(i.id);
        return {
          instanceId: i.id,
          name: i.name,
          online: s !== undefined,
          lastSeenAt: s ? new Date().toISOString() : i.lastSeenAt === null ? null : new Date(i.lastSeenAt).toISOString(),
          workspaces: s ? s.workspaces : [],
        };
      });
    return { instances };
  }

  /** Record the ids the verb's declared output fields name; any other string of the answer is ignored. */
  private async recordOwners(orgId: string, instanceId: string, spec: VerbSpec, output: unknown): Promise<void> {
    for (const id of ownedIdsOf(spec, output)) if (OWNED_ID.some((re) => re.test(id))) await this.store.recordOwner(orgId, id, instanceId);
  }

  private audit(p: Principal, verb: string, target: string | null, instanceId: string | null, outcome: string, ctx: CallContext): Promise<void> {
    return this.store.appendAudit({
      orgId: p.orgId,
      actor: p.actor,
      action: 'planner.call',
      target,
      outcome,
      ip: ctx.ip,
      detail: { verb: verb.slice(0, 64), instanceId, via: ctx.via, ...(p.clientId !== undefined ? { clientId: p.clientId } : {}) },
    });
  }
}
