import { randomBytes } from 'node:crypto';
import {
  LIMITS,
  LIVE_ATTEMPT_STATES,
  SETTLED_STEP_STATES,
  SluiceError,
  TERMINAL_ATTEMPT_STATES,
  VERBS,
  newId,
  type Attempt,
  type Gate,
  type Run,
  type VerbInput,
  type VerbName,
  type VerbOutput,
} from '@sluice/shared-protocol';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ArtifactCorruptError } from '../artifacts/artifact-store.js';
import { requireAcceptedBase } from '../git/base-policy.js';
import { createRunBranch, resolveCommit } from '../git/refs.js';
import type { Store } from '../store/index.js';
import { canSee, isRemoteCall, type CallContext } from './call-context.js';
import type { ConfigHolder } from '../config/config-holder.js';
import { dispatchOverrides, planDispatch } from '../runs/dispatch.js';
import type { EnginePort } from '../runs/engine-port.js';
import { decideApprovalGate, type GateDecision } from '../runs/gate-decision.js';
import { abortRun, closeRun } from '../runs/run-lifecycle.js';
import { guardRemotePayload, requireArtifactReleased, requireNoUnreleasedFindings } from '../secrets/remote-guard.js';
import { describeWorkspace } from './describe-workspace.js';
import { runChanges, runDiff } from './run-diff.js';

/** What the verb services need. */
export interface ServiceDeps {
  store: Store;
  artifacts: ArtifactStore;
  engine: EnginePort;
  config: ConfigHolder;
}

type Handler<V extends VerbName> = (input: VerbInput<V>, ctx: CallContext) => Promise<VerbOutput<V>> | VerbOutput<V>;
type Handlers = { [V in Exclude<VerbName, 'instances.list'>]: Handler<V> };

const TEXT_MEDIA = /^(text\/|application\/(json|x-ndjson|xml|javascript|x-diff|x-patch)\b)/;

/** Reads that leave an audit row: artifact content read from outside the machine (agent output, diffs, validation output). */
function auditsRead(verb: VerbName, ctx: CallContext): boolean {
  return verb === 'artifacts.get' && isRemoteCall(ctx);
}

/** The id a verb input is about, for the audit row. */
function targetOf(input: Record<string, unknown>): string | null {
  for (const k of ['attemptId', 'gateId', 'stepId', 'runId', 'workspaceId']) if (typeof input[k] === 'string') return input[k];
  return null;
}

/** The verbs of the table, served from the ledger. Knows nothing of HTTP. */
export class VerbService {
  private readonly handlers: Handlers;

  constructor(private readonly deps: ServiceDeps) {
    this.handlers = {
      'workspaces.describe': (i, c) => describeWorkspace(i.workspaceId, this.visibleWorkspace(i.workspaceId, c)),
      'runs.open': (i, c) => this.runsOpen(i, c),
      'runs.get': (i, c) => this.runsGet(i, c),
      'runs.diff': (i, c) => this.runsDiff(i, c),
      'runs.list': (i, c) => this.runsList(i, c),
      'runs.close': (i, c) => this.runsClose(i, c),
      'runs.abort': (i, c) => this.runsAbort(i, c),
      'steps.dispatch': (i, c) => this.stepsDispatch(i, c),
      'steps.get': (i, c) => this.deps.store.getStepDetail(this.visibleStep(i.stepId, c))!,
      'steps.retry': (i, c) => this.stepsRetry(i, c),
      'steps.cancel': (i, c) => this.stepsCancel(i, c),
      'steps.wait': (i, c) => this.stepsWait(i, c),
      'attempts.get': (i, c) => this.deps.store.getAttemptDetail(this.visibleAttempt(i.attemptId, c).attemptId)!,
      'attempts.cancel': (i, c) => this.attemptsCancel(i, c),
      'gates.list': (i, c) => ({ gates: this.deps.store.listGates(this.visibleRun(i.runId, c).runId, i.status ?? 'all') }),
      'gates.approve': (i, c) => this.gatesDecide(i.gateId, { approve: true, attemptId: i.attemptId, reason: i.reason ?? null }, c),
      'gates.reject': (i, c) => this.gatesDecide(i.gateId, { approve: false, attemptId: undefined, reason: i.reason }, c),
      'artifacts.list': (i, c) => this.artifactsList(i, c),
      'artifacts.get': (i, c) => this.artifactsGet(i, c),
      'events.list': (i, c) => this.eventsList(i, c),
    };
  }

  /** True when the daemon serves this verb (everything but the relay-only ones). */
  serves(verb: VerbName): verb is Exclude<VerbName, 'instances.list'> {
    return Object.prototype.hasOwnProperty.call(this.handlers, verb);
  }

  /** Run one verb with already-validated input; writes leave an audit row with their outcome. */
  async call<V extends Exclude<VerbName, 'instances.list'>>(verb: V, input: VerbInput<V>, ctx: CallContext): Promise<VerbOutput<V>> {
    const out = await this.callUnguarded(verb, input, ctx);
    // Artifact content is withheld whole (artifacts.get refuses); every other answer has its matches withheld.
    return isRemoteCall(ctx) && verb !== 'artifacts.get' ? guardRemotePayload(out) : out;
  }

  private async callUnguarded<V extends Exclude<VerbName, 'instances.list'>>(verb: V, input: VerbInput<V>, ctx: CallContext): Promise<VerbOutput<V>> {
    const handler = this.handlers[verb] as Handler<V>;
    if (VERBS[verb].hints.readOnly && !auditsRead(verb, ctx)) return handler(input, ctx);
    const digest = (input as { digest?: unknown }).digest;
    const details = { remote: ctx.sharedWorkspaces !== null, ...(typeof digest === 'string' ? { digest } : {}), ...(ctx.consoleSession ? { consoleSession: ctx.consoleSession } : {}) };
    const audit = (outcome: string) => this.deps.store.audit({ actor: ctx.actor, action: `verb.${verb}`, target: targetOf(input as Record<string, unknown>), outcome, details });
    try {
      const out = await handler(input, ctx);
      audit('ok');
      return out;
    } catch (err) {
      audit(err instanceof SluiceError ? err.code : 'INTERNAL');
      throw err;
    }
  }

  private visibleRun(runId: string, ctx: CallContext): Run {
    const run = this.deps.store.getRun(runId);
    if (!run || !canSee(ctx, run.workspaceId)) throw new SluiceError('RUN_NOT_FOUND');
    return run;
  }

  private visibleStep(stepId: string, ctx: CallContext): string {
    const step = this.deps.store.getStepRow(stepId);
    if (!step) throw new SluiceError('STEP_NOT_FOUND');
    const run = this.deps.store.getRun(step.run_id);
    if (!run || !canSee(ctx, run.workspaceId)) throw new SluiceError('STEP_NOT_FOUND');
    return stepId;
  }

  private visibleAttempt(attemptId: string, ctx: CallContext): Attempt {
    const attempt = this.deps.store.getAttempt(attemptId);
    const run = attempt ? this.deps.store.getRun(attempt.runId) : null;
    if (!attempt || !run || !canSee(ctx, run.workspaceId)) throw new SluiceError('ATTEMPT_NOT_FOUND');
    return attempt;
  }

  private visibleGate(gateId: string, ctx: CallContext): { gate: Gate; run: Run } {
    const gate = this.deps.store.getGate(gateId);
    const run = gate ? this.deps.store.getRun(gate.runId) : null;
    if (!gate || !run || !canSee(ctx, run.workspaceId)) throw new SluiceError('GATE_NOT_FOUND');
    return { gate, run };
  }

  private visibleWorkspace(workspaceId: string, ctx: CallContext) {
    if (!canSee(ctx, workspaceId)) throw new SluiceError('WORKSPACE_NOT_FOUND');
    return this.deps.config.requireWorkspace(workspaceId);
  }

  private async runsOpen(i: VerbInput<'runs.open'>, ctx: CallContext): Promise<Run> {
    const ws = this.visibleWorkspace(i.workspaceId, ctx);
    const baseRef = i.baseRef ?? 'HEAD';
    const baseCommit = await resolveCommit(ws.path, baseRef);
    await requireAcceptedBase(ws.path, baseRef, baseCommit, (runId) => {
      const earlier = this.deps.store.getRun(runId);
      return earlier && earlier.workspaceId === i.workspaceId ? earlier.headCommit : null;
    });
    const runId = newId('run', (n) => randomBytes(n));
    const branch = await createRunBranch(ws.path, runId, baseCommit);
    return this.deps.store.openRun({ runId, workspaceId: i.workspaceId, title: i.title ?? '', baseRef, baseCommit, branch, actor: ctx.actor });
  }

  private async runsGet(i: VerbInput<'runs.get'>, ctx: CallContext): Promise<VerbOutput<'runs.get'>> {
    const detail = this.deps.store.getRunDetail(this.visibleRun(i.runId, ctx).runId)!;
    const ws = this.deps.config.workspace(detail.workspaceId);
    // A removed workspace leaves its runs in the ledger but no repository to compare in.
    return ws ? { ...detail, ...(await runChanges(ws.path, detail)) } : detail;
  }

  private runsDiff(i: VerbInput<'runs.diff'>, ctx: CallContext): Promise<VerbOutput<'runs.diff'>> {
    const run = this.visibleRun(i.runId, ctx);
    return runDiff(this.deps, this.deps.config.requireWorkspace(run.workspaceId).path, run, ctx.actor);
  }

  private runsList(i: VerbInput<'runs.list'>, ctx: CallContext): VerbOutput<'runs.list'> {
    if (i.workspaceId !== undefined && !canSee(ctx, i.workspaceId)) throw new SluiceError('WORKSPACE_NOT_FOUND');
    if (i.cursor !== undefined) {
      const at = this.deps.store.getRun(i.cursor);
      if (!at || !canSee(ctx, at.workspaceId)) throw new SluiceError('CURSOR_INVALID', 'This cursor is not one runs.list gave out; list again without it.');
    }
    return this.deps.store.listRuns({
      workspaceIds: ctx.sharedWorkspaces ? [...ctx.sharedWorkspaces] : null,
      workspaceId: i.workspaceId,
      state: i.state,
      limit: i.limit ?? 20,
      cursor: i.cursor,
    });
  }

  private runsClose(i: VerbInput<'runs.close'>, ctx: CallContext): Run {
    return this.deps.store.transaction(() => closeRun(this.deps.store, this.visibleRun(i.runId, ctx), ctx.actor));
  }

  private runsAbort(i: VerbInput<'runs.abort'>, ctx: CallContext): Promise<Run> {
    return abortRun(this.deps, this.visibleRun(i.runId, ctx), i.reason ?? null, ctx.actor);
  }

  private stepsDispatch(i: VerbInput<'steps.dispatch'>, ctx: CallContext): VerbOutput<'steps.dispatch'> {
    const run = this.visibleRun(i.runId, ctx);
    const ws = this.deps.config.requireWorkspace(run.workspaceId);
    const { step, created } = this.deps.store.dispatchStep(planDispatch(run, ws, i, ctx.actor));
    if (created) this.deps.engine.notify();
    const effective = dispatchOverrides(ws, i);
    return { ...step, ...(created ? {} : { replayed: true }), ...(effective ? { effective } : {}) };
  }

  private async stepsCancel(i: VerbInput<'steps.cancel'>, ctx: CallContext): Promise<VerbOutput<'steps.cancel'>> {
    this.visibleStep(i.stepId, ctx);
    const live = this.deps.store.getStep(i.stepId)!.attempts.filter((a) => LIVE_ATTEMPT_STATES.includes(a.state) || a.state === 'awaiting_approval');
    await Promise.all(live.map((a) => this.deps.engine.cancelAttempt(a.attemptId, i.reason ?? null, ctx.actor)));
    return this.deps.store.getStep(i.stepId)!;
  }

  private stepsRetry(i: VerbInput<'steps.retry'>, ctx: CallContext): VerbOutput<'steps.retry'> {
    const { store } = this.deps;
    this.visibleStep(i.stepId, ctx);
    const step = store.getStep(i.stepId)!;
    if (step.state !== 'failed' && step.state !== 'cancelled') throw new SluiceError('STEP_NOT_RETRYABLE');
    store.createAttempts(step.stepId, step.attemptsRequested, ctx.actor);
    this.deps.engine.notify();
    return store.getStep(step.stepId)!;
  }

  private async stepsWait(i: VerbInput<'steps.wait'>, ctx: CallContext): Promise<VerbOutput<'steps.wait'>> {
    const { store } = this.deps;
    this.visibleStep(i.stepId, ctx);
    const deadline = Date.now() + (i.timeoutMs ?? LIMITS.waitMs);
    for (;;) {
      const detail = store.getStepDetail(i.stepId)!;
      const settled = SETTLED_STEP_STATES.includes(detail.state);
      const left = deadline - Date.now();
      if (settled || left <= 0) return { ...detail, settled };
      if (!(await store.bus.waitFor((n) => n.runIds.has(detail.runId), left))) {
        const last = store.getStepDetail(i.stepId)!;
        return { ...last, settled: SETTLED_STEP_STATES.includes(last.state) };
      }
    }
  }

  private async attemptsCancel(i: VerbInput<'attempts.cancel'>, ctx: CallContext): Promise<VerbOutput<'attempts.cancel'>> {
    const attempt = this.visibleAttempt(i.attemptId, ctx);
    if (TERMINAL_ATTEMPT_STATES.includes(attempt.state)) return { attempt, alreadyFinished: true };
    await this.deps.engine.cancelAttempt(attempt.attemptId, i.reason ?? null, ctx.actor);
    return { attempt: this.deps.store.getAttempt(attempt.attemptId)!, alreadyFinished: false };
  }

  private async gatesDecide(gateId: string, d: GateDecision, ctx: CallContext): Promise<Gate> {
    const { gate, run } = this.visibleGate(gateId, ctx);
    const ws = this.deps.config.requireWorkspace(run.workspaceId);
    if (ctx.sharedWorkspaces !== null && !ws.approval.remote) throw new SluiceError('REMOTE_APPROVAL_DISABLED');
    if (gate.kind !== 'approval') throw new SluiceError('GATE_NOT_DECIDABLE');
    if (run.state !== 'open') throw new SluiceError('RUN_NOT_OPEN', `The run is ${run.state}; its gates take no more decisions.`);
    const chosen = d.attemptId ?? (gate.candidates.length === 1 ? gate.candidates[0] : undefined);
    if (d.approve && gate.status === 'pending' && chosen !== undefined && isRemoteCall(ctx)) requireNoUnreleasedFindings(this.deps.store, chosen);
    return decideApprovalGate(this.deps, gate, d, ctx.actor);
  }

  private artifactsList(i: VerbInput<'artifacts.list'>, ctx: CallContext): VerbOutput<'artifacts.list'> {
    const run = this.visibleRun(i.runId, ctx);
    this.requireInRun(run.runId, i);
    return { artifacts: this.deps.store.listArtifacts({ runId: run.runId, stepId: i.stepId, attemptId: i.attemptId }) };
  }

  /** A step or attempt a call names beside its run must be of that run (and the attempt of that step). */
  private requireInRun(runId: string, i: { stepId?: string | undefined; attemptId?: string | undefined }): void {
    if (i.stepId !== undefined && this.deps.store.getStepRow(i.stepId)?.run_id !== runId) throw new SluiceError('STEP_NOT_FOUND', `Step ${i.stepId} is not a step of run ${runId}.`);
    if (i.attemptId !== undefined) {
      const a = this.deps.store.getAttempt(i.attemptId);
      if (!a || a.runId !== runId) throw new SluiceError('ATTEMPT_NOT_FOUND', `Attempt ${i.attemptId} is not an attempt of run ${runId}.`);
      if (i.stepId !== undefined && a.stepId !== i.stepId) throw new SluiceError('ATTEMPT_NOT_FOUND', `Attempt ${i.attemptId} is not an attempt of step ${i.stepId}.`);
    }
  }

  private async artifactsGet(i: VerbInput<'artifacts.get'>, ctx: CallContext): Promise<VerbOutput<'artifacts.get'>> {
    const run = this.visibleRun(i.runId, ctx);
    const ref = this.deps.store.findArtifact(run.runId, i.digest);
    if (!ref) throw new SluiceError('ARTIFACT_NOT_FOUND');
    if (isRemoteCall(ctx)) await requireArtifactReleased(this.deps, run.runId, i.digest);
    const offset = i.offset ?? 0;
    let chunk;
    try {
      chunk = await this.deps.artifacts.read(i.digest, offset, i.length ?? LIMITS.artifactChunkBytes);
    } catch (err) {
      if (err instanceof ArtifactCorruptError) throw new SluiceError('STORAGE_ERROR', 'The artifact is corrupt on disk and is not served.');
      throw err;
    }
    let encoding: 'utf8' | 'base64' = 'base64';
    let content = chunk.data.toString('base64');
    if (TEXT_MEDIA.test(ref.mediaType)) {
      try {
        content = new TextDecoder('utf-8', { fatal: true }).decode(chunk.data);
        encoding = 'utf8';
      } catch {
        // A chunk boundary inside a multi-byte character: fall back to base64.
      }
    }
    return { digest: i.digest, size: chunk.size, mediaType: ref.mediaType, offset: Math.min(offset, chunk.size), length: chunk.data.length, encoding, content, eof: chunk.eof };
  }

  private async eventsList(i: VerbInput<'events.list'>, ctx: CallContext): Promise<VerbOutput<'events.list'>> {
    const { store } = this.deps;
    const run = this.visibleRun(i.runId, ctx);
    const page = () => {
      const p = store.listRunEvents({ runId: run.runId, after: i.after ?? 0, limit: i.limit ?? 100, maxBytes: LIMITS.eventsPageBytes });
      if (!p) throw new SluiceError('CURSOR_INVALID', 'This run has no event at that cursor; cursors are positions in the run, from a previous page of it.');
      return p;
    };
    let out = page();
    if (out.events.length === 0 && (i.waitMs ?? 0) > 0) {
      const deadline = Date.now() + i.waitMs!;
      while (out.events.length === 0 && Date.now() < deadline) {
        if (!(await store.bus.waitFor((n) => n.runIds.has(run.runId), deadline - Date.now()))) break;
        out = page();
      }
    }
    return out;
  }
}
