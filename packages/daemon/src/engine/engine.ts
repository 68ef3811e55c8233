import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SluiceError, TERMINAL_ATTEMPT_STATES, type Attempt, type AttemptState } from '@sluice/shared-protocol';
import type { ArtifactKind, ArtifactTarget } from './artifact-recorder.js';
import { ArtifactBudget, ArtifactLimitError, recordArtifact } from './artifact-recorder.js';
import { ENGINE_ACTOR, type EngineDeps, type EngineOptions } from './engine-types.js';
import { LogPump } from './log-pump.js';
import { acceptAttemptCommit, fastForwardRun } from '../service/run-branch.js';
import { readRef, runRef } from '../git/refs.js';
import { killLeftoverGroup } from './leftover.js';
import { homeEnv, makeScratchHome, removeScratchHome } from './scratch-home.js';
import { ExecutorError, executorFailure, getAdapter, preflightExecutor, type ExecutorSpec } from '../executors/index.js';
import { CaptureError, WorktreeManager, type AttemptWorktree, type Capture } from '../git/worktree-manager.js';
import { buildChildEnv, spawnSupervised } from '../process/index.js';
import type { EnginePort } from '../service/engine-port.js';
import { settleStepIfDone } from '../service/step-outcome.js';
import type { AttemptPatch } from '../store/index.js';
import { runValidation } from '../validations/index.js';
import type { WorkspaceConfig } from '../config/schema.js';

interface CancelRequest {
  reason: string | null;
  actor: string;
  /** The daemon is stopping: record `interrupted`, not `cancelled`. */
  shutdown: boolean;
}

interface LiveAttempt {
  attemptId: string;
  workspaceId: string;
  cancel: CancelRequest | null;
  /** Stops whatever process the attempt is running now. */
  kill: (() => Promise<unknown>) | null;
  finished: Promise<void>;
}

type Ending = Extract<AttemptState, 'failed' | 'cancelled' | 'timed_out' | 'interrupted'>;

const LIVE: readonly AttemptState[] = ['preparing', 'running', 'validating'];

/** How often an outcome that could not be written (disk full) is tried again. */
const RECORD_RETRY_MS = 1000;

/**
 * The execution engine: schedules queued attempts from the ledger (so the queue survives restarts), runs each in
 * its own worktree through an executor adapter, captures every change, runs validations, opens gates, accepts by
 * compare-and-swap, cancels honestly and recovers after a crash. Every state change goes through the ledger.
 */
export class ExecutionEngine implements EnginePort {
  private readonly live = new Map<string, LiveAttempt>();
  private readonly managers = new Map<string, WorktreeManager>();
  private pumpQueued = false;
  private stopping = false;
  /** Draining: running attempts go on, queued ones wait for the next daemon. */
  private draining = false;
  private unsubscribe: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private readonly opts: Required<Omit<EngineOptions, 'cancelGraceMs' | 'env'>> & Pick<EngineOptions, 'cancelGraceMs' | 'env'>;

  constructor(
    private readonly deps: EngineDeps,
    opts: EngineOptions = {},
  ) {
    this.opts = { outputCapBytes: 8 * 1024 * 1024, checkoutWorkers: 2, worktreePool: 0, ...opts };
    mkdirSync(deps.attemptsDir, { recursive: true, mode: 0o700 });
  }

  /** Recover attempts a previous daemon left live, then start scheduling. */
  async start(): Promise<void> {
    await this.recover();
    // Any committed change (a step settled, an attempt accepted) may make queued work runnable.
    this.unsubscribe = this.deps.store.bus.subscribe(() => this.notify());
    this.notify();
  }

  /** Stop scheduling; live attempts are stopped and recorded `interrupted`; pooled worktrees are removed. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    await Promise.all(
      [...this.live.values()].map(async (l) => {
        l.cancel ??= { reason: 'the daemon stopped', actor: ENGINE_ACTOR, shutdown: true };
        await l.kill?.();
        await l.finished;
      }),
    );
    for (const m of this.managers.values()) await m.drainPools().catch(() => undefined);
  }

  /** Start no more queued attempts; resolves once every running attempt has ended by itself. */
  async drain(): Promise<void> {
    this.draining = true;
    while (this.live.size > 0) await Promise.all([...this.live.values()].map((l) => l.finished));
  }

  /** Start no more queued attempts and cancel the running ones; resolves once each is recorded `cancelled`. */
  async cancelRunning(reason: string, actor: string): Promise<void> {
    this.draining = true;
    await Promise.all([...this.live.keys()].map((id) => this.cancelAttempt(id, reason, actor)));
  }

  /** Number of attempts this engine is running now. */
  get liveCount(): number {
    return this.live.size;
  }

  notify(): void {
    if (this.pumpQueued || this.stopping || this.draining) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      try {
        this.pump();
      } catch (err) {
        this.deps.logger?.error({ err }, 'scheduling failed');
      }
    });
  }

  private pump(): void {
    if (this.stopping || this.draining) return;
    const { store, config } = this.deps;
    const global = config.current.concurrency;
    if (this.live.size >= global) return;
    for (const a of store.nextQueuedAttempts(100)) {
      if (this.live.size >= global) break;
      if (this.live.has(a.attemptId)) continue;
      const run = store.getRun(a.runId);
      if (!run) continue;
      const ws = config.workspace(run.workspaceId);
      const perWs = [...this.live.values()].filter((l) => l.workspaceId === run.workspaceId).length;
      if (ws && perWs >= ws.concurrency) continue;
      this.launch(a, run.workspaceId);
    }
  }

  private launch(a: Attempt, workspaceId: string): void {
    const live: LiveAttempt = { attemptId: a.attemptId, workspaceId, cancel: null, kill: null, finished: Promise.resolve() };
    this.live.set(a.attemptId, live);
    live.finished = this.execute(a, live)
      .catch((err: unknown) => this.failUnexpected(a.attemptId, err))
      .finally(() => {
        this.live.delete(a.attemptId);
        this.dropScratchHome(a.attemptId);
        this.notify();
      });
  }

  private dropScratchHome(attemptId: string): void {
    try {
      removeScratchHome(join(this.deps.attemptsDir, attemptId));
    } catch (err) {
      this.deps.logger?.warn({ err, attemptId }, 'could not remove the scratch HOME of an attempt');
    }
  }

  private worktrees(ws: WorkspaceConfig): WorktreeManager {
    const root = ws.worktreeRoot ?? this.deps.worktreesDir;
    const key = `${root}\0${ws.keepWorktrees}`;
    let m = this.managers.get(key);
    if (!m) {
      m = new WorktreeManager({
        worktreeRoot: root,
        keepWorktrees: ws.keepWorktrees,
        checkoutWorkers: this.opts.checkoutWorkers,
        poolSize: this.opts.worktreePool,
        ...(this.deps.homeDir ? { homeDir: this.deps.homeDir } : {}),
      });
      this.managers.set(key, m);
    }
    return m;
  }

  private graceMs(): number {
    return this.opts.cancelGraceMs ?? this.deps.config.current.cancelGrace;
  }

  /** One attempt from `queued` to an outcome. */
  private async execute(a: Attempt, live: LiveAttempt): Promise<void> {
    const { store, config } = this.deps;
    const run = store.getRun(a.runId)!;
    const step = store.getStep(a.stepId)!;
    // The attempt starts from the run branch head as it is now: the previous step's accepted work.
    store.transaction(() => {
      store.transitionAttempt(a.attemptId, 'preparing', { baseCommit: run.headCommit }, ENGINE_ACTOR);
      if (store.getStep(a.stepId)!.state === 'queued') store.transitionStep(a.stepId, 'running', {}, ENGINE_ACTOR);
    });
    const ids = { runId: a.runId, stepId: a.stepId, attemptId: a.attemptId, budget: this.budget() };
    const ws = config.workspace(run.workspaceId);
    if (!ws) return this.end(a, live, 'failed', { failureCode: 'WORKSPACE_NOT_FOUND', summary: 'the workspace is no longer registered' });
    const entry = Object.prototype.hasOwnProperty.call(ws.executors, step.executor) ? ws.executors[step.executor] : undefined;
    if (!entry) return this.end(a, live, 'failed', { failureCode: 'EXECUTOR_MISCONFIGURED', summary: `executor ${step.executor} is no longer configured` });
    const spec: ExecutorSpec = { ...entry, commands: entry.policy.commands };
    const adapter = getAdapter(spec.adapter);

    const scratch = join(this.deps.attemptsDir, a.attemptId);
    mkdirSync(scratch, { recursive: true, mode: 0o700 });
    const taskFile = join(scratch, 'task.md');
    writeFileSync(taskFile, step.task, { mode: 0o600 });
    const scratchHome = makeScratchHome(scratch);
    // Recorded while the executor starts: it is not on the path from dispatch to a running agent.
    let taskRecorded: Promise<unknown> | null = null;
    const recordTask = () =>
      (taskRecorded ??= recordArtifact(this.deps, ids, 'task', 'task.md', 'text/markdown; charset=utf-8', { file: taskFile }).catch((err: unknown) =>
        this.deps.logger?.warn({ err, attemptId: a.attemptId }, 'could not record the task artifact'),
      ));

    const childEnv = buildChildEnv(spec.env ?? [], homeEnv(entry.policy, scratchHome), this.opts.env ?? process.env);
    let binaryPath: string;
    try {
      binaryPath = (await preflightExecutor(adapter, spec, childEnv, scratch)).binaryPath;
    } catch (err) {
      if (err instanceof ExecutorError) {
        await recordTask();
        return this.end(a, live, 'failed', { failureCode: err.code, summary: err.message });
      }
      throw err;
    }
    if (live.cancel) return this.endCancelled(a, live, {});

    const mgr = this.worktrees(ws);
    let wt: AttemptWorktree;
    try {
      wt = await mgr.create(ws.path, a.attemptId, run.headCommit);
    } catch (err) {
      await recordTask();
      return this.end(a, live, 'failed', { failureCode: 'WORKTREE_FAILED', summary: err instanceof Error ? err.message.slice(0, 500) : 'worktree creation failed' });
    }

    const stateDir = entry.policy.home.passThrough ? null : scratchHome;
    const inv = adapter.buildInvocation(spec, { task: step.task, worktree: wt.path, taskFile, scratchDir: scratch, binaryPath, attemptId: a.attemptId, attemptNumber: a.number, stateDir });
    for (const d of inv.dirs ?? []) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const f of inv.files ?? []) {
      mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
      writeFileSync(f.path, f.content, { mode: 0o600 });
    }
    const pump = new LogPump(store, ids, ENGINE_ACTOR, adapter.liveLines);
    const stdoutPath = join(scratch, 'stdout');
    const stderrPath = join(scratch, 'stderr');
    let result;
    if (live.cancel) {
      result = null;
    } else {
      const proc = spawnSupervised({
        argv: inv.argv,
        cwd: wt.path,
        env: { ...childEnv, ...inv.env },
        stdin: inv.stdin,
        stdoutPath,
        stderrPath,
        outputCapBytes: this.opts.outputCapBytes,
        timeoutMs: step.timeoutMs,
        idleTimeoutMs: entry.idleTimeout,
        graceMs: this.graceMs(),
        onStdout: (c) => pump.push('stdout', c),
        onStderr: (c) => pump.push('stderr', c),
      });
      if (proc.pid !== undefined) writeFileSync(join(scratch, 'pid'), `${proc.pid}\n${wt.path}\n`, { mode: 0o600 });
      live.kill = () => proc.cancel();
      store.transitionAttempt(a.attemptId, 'running', {}, ENGINE_ACTOR);
      if (live.cancel) void proc.cancel();
      void recordTask();
      result = await proc.done;
      live.kill = null;
      pump.flush(true);
    }

    await recordTask();
    // Every change is committed before anything else happens, also after a cancel or a timeout.
    let cap: Capture;
    try {
      cap = await mgr.capture(wt, `sluice: attempt ${a.attemptId} (step ${step.seq} of ${run.runId})`);
    } catch (err) {
      // The changes cannot be committed, so nothing is gained by keeping the worktree: it would stay forever.
      await mgr.discard(wt).catch((e: unknown) => this.deps.logger?.warn({ err: e }, 'worktree removal failed'));
      const failureCode = err instanceof CaptureError ? err.code : 'CAPTURE_FAILED';
      return this.end(a, live, 'failed', { failureCode, summary: err instanceof Error ? err.message.slice(0, 500) : 'capture failed' });
    }
    const patch: AttemptPatch = { commit: cap.commit, changedFiles: cap.changedFiles.length };
    try {
      const diffRefused = await this.recordCapture(ids, cap, mgr, wt);
      if (result) {
        patch.exitCode = result.exitCode;
        await recordArtifact(this.deps, ids, 'stdout', 'stdout', 'text/plain; charset=utf-8', { file: stdoutPath });
        await recordArtifact(this.deps, ids, 'stderr', 'stderr', 'text/plain; charset=utf-8', { file: stderrPath });
      }
      const rawStdout = result ? readFileSync(stdoutPath, 'utf8') : '';
      const parsed = adapter.parseOutput(rawStdout, result ? readFileSync(stderrPath, 'utf8') : '');
      if (parsed.denied.length > 0) this.recordDenials(ids, parsed.denied);
      patch.summary = parsed.summary;
      if (result && parsed.log && parsed.log !== rawStdout) await recordArtifact(this.deps, ids, 'log', 'log', 'text/plain; charset=utf-8', { data: parsed.log });
      // Refused after the output is recorded: whoever looks into a too-large diff needs the agent's output.
      if (diffRefused) throw diffRefused;

      if (live.cancel || !result || result.cancelled) return this.endCancelled(a, live, patch);
      const failure = executorFailure(result, parsed, { timeoutMs: step.timeoutMs, idleTimeoutMs: entry.idleTimeout });
      if (failure) return this.end(a, live, failure.code === 'TIMED_OUT' ? 'timed_out' : 'failed', { ...patch, failureCode: failure.code, summary: failure.summary });

      if (step.validations.length > 0) {
        store.transitionAttempt(a.attemptId, 'validating', patch, ENGINE_ACTOR);
        let allPassed = true;
        for (const name of step.validations) {
          const v = Object.prototype.hasOwnProperty.call(ws.validations, name) ? ws.validations[name] : undefined;
          if (!v) return this.end(a, live, 'failed', { failureCode: 'VALIDATION_NOT_DEFINED', summary: `validation ${name} is no longer configured` });
          if (live.cancel) return this.endCancelled(a, live, {});
          const onStart = (c: () => Promise<unknown>) => {
            live.kill = c;
            // A cancel that arrived between two validations stops this one at once.
            if (live.cancel) void c();
          };
          const r = await runValidation(
            { name, argv: v.argv, timeoutMs: v.timeout, env: v.env },
            { worktree: wt.path, outDir: scratch, graceMs: this.graceMs(), outputCapBytes: this.opts.outputCapBytes, env: homeEnv(v.policy, scratchHome), onStart },
          );
          live.kill = null;
          if (live.cancel) return this.endCancelled(a, live, {});
          const out = await recordArtifact(this.deps, ids, 'validation-stdout', `${name}.stdout`, 'text/plain; charset=utf-8', { file: r.stdoutPath });
          const err = await recordArtifact(this.deps, ids, 'validation-stderr', `${name}.stderr`, 'text/plain; charset=utf-8', { file: r.stderrPath });
          store.recordValidation(
            { attemptId: a.attemptId, name, argv: r.argv, passed: r.passed, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs, stdoutDigest: out?.digest ?? null, stderrDigest: err?.digest ?? null },
            ENGINE_ACTOR,
          );
          if (!r.passed) allPassed = false;
        }
        store.createGate(
          { runId: a.runId, stepId: a.stepId, attemptId: a.attemptId, kind: 'validation', rule: `all of: ${step.validations.join(', ')}`, candidates: [a.attemptId], status: allPassed ? 'passed' : 'failed', attributesChangedBy: cap.attributesFiles.length > 0 ? [a.attemptId] : [] },
          ENGINE_ACTOR,
        );
        if (!allPassed) return this.end(a, live, 'failed', { failureCode: 'VALIDATION_FAILED', summary: patch.summary ?? 'a validation failed' });
      }

      if (step.approvalRequired || step.attemptsRequested > 1) {
        store.transaction(() => {
          store.transitionAttempt(a.attemptId, 'awaiting_approval', patch, ENGINE_ACTOR);
          this.openApprovalGateIfReady(a.stepId);
        });
        return;
      }
      try {
        await fastForwardRun(store, ws.path, a.runId, cap.commit, ENGINE_ACTOR);
      } catch (err) {
        if (err instanceof SluiceError && err.code === 'RUN_BRANCH_MOVED') return this.end(a, live, 'failed', { ...patch, failureCode: 'RUN_BRANCH_MOVED', summary: err.message });
        throw err;
      }
      store.transaction(() => {
        store.transitionAttempt(a.attemptId, 'succeeded', patch, ENGINE_ACTOR);
        settleStepIfDone(store, a.stepId, ENGINE_ACTOR);
      });
    } catch (err) {
      if (err instanceof ArtifactLimitError || err instanceof CaptureError) return this.end(a, live, 'failed', { ...patch, failureCode: err.code, summary: err.message.slice(0, 500) });
      throw err;
    } finally {
      if (wt.commit) await mgr.release(wt).catch((err: unknown) => this.deps.logger?.warn({ err }, 'worktree removal failed'));
    }
  }

  private budget(): ArtifactBudget {
    const { attemptLimit, diffLimit } = this.deps.config.current.artifacts;
    return new ArtifactBudget(attemptLimit, diffLimit);
  }

  /**
   * The changed-file list, the flags, then the diff streamed from git into the store (never held in memory).
   * A diff past its cap is not stored; the refusal is returned for the caller to fail the attempt with.
   */
  private async recordCapture(ids: ArtifactTarget, cap: Capture, mgr: WorktreeManager, wt: AttemptWorktree): Promise<ArtifactLimitError | null> {
    await recordArtifact(this.deps, ids, 'changed-files', 'changed-files.txt', 'text/plain; charset=utf-8', { data: cap.changedFilesText });
    if (cap.attributesFiles.length > 0) {
      const data = { attributesChanged: true, paths: cap.attributesFiles };
      this.deps.store.appendEvent({ type: 'attempt.flagged', runId: ids.runId, stepId: ids.stepId, attemptId: ids.attemptId, data }, ENGINE_ACTOR);
    }
    const diff = await mgr.diffStream(wt);
    try {
      await recordArtifact(this.deps, ids, 'diff', 'diff.patch', 'text/x-diff', { stream: diff.stdout });
    } catch (err) {
      diff.kill();
      await diff.done.catch(() => undefined);
      if (err instanceof ArtifactLimitError) return err;
      throw err;
    }
    await diff.done;
    return null;
  }

  /** Actions the agent's CLI refused under its policy: one event and one log line each, for the planner. */
  private recordDenials(ids: ArtifactTarget, denied: readonly string[]): void {
    const { store } = this.deps;
    const target = { runId: ids.runId, stepId: ids.stepId, attemptId: ids.attemptId };
    store.appendEvent({ type: 'attempt.denied', ...target, data: { count: denied.length, actions: denied } }, ENGINE_ACTOR);
    store.appendEvent({ type: 'attempt.log', ...target, data: { lines: denied.map((d) => ({ stream: 'sluice', text: `denied: ${d}` })) } }, ENGINE_ACTOR);
  }

  private endCancelled(a: Attempt, live: LiveAttempt, patch: AttemptPatch): void {
    const c = live.cancel ?? { reason: null, actor: ENGINE_ACTOR, shutdown: false };
    if (c.shutdown) return this.end(a, live, 'interrupted', { ...patch, failureCode: 'DAEMON_STOPPED', summary: 'the daemon stopped while this attempt was live' }, c.actor);
    return this.end(a, live, 'cancelled', { ...patch, failureCode: 'CANCELLED', summary: c.reason ?? 'cancelled' }, c.actor);
  }

  /** Record an ending and settle the step (or open its approval gate when the other attempts are waiting). */
  private end(a: Attempt, _live: LiveAttempt, to: Ending, patch: AttemptPatch, actor: string = ENGINE_ACTOR): void {
    const { store } = this.deps;
    store.transaction(() => {
      const now = store.getAttempt(a.attemptId);
      if (now && !TERMINAL_ATTEMPT_STATES.includes(now.state)) store.transitionAttempt(a.attemptId, to, patch, actor);
      this.openApprovalGateIfReady(a.stepId);
    });
  }

  /**
   * When every latest attempt of a step has ended or waits for approval: open one approval gate naming the
   * waiting ones as candidates, or settle the step when none is waiting.
   */
  private openApprovalGateIfReady(stepId: string): void {
    const { store } = this.deps;
    store.transaction(() => {
      const step = store.getStep(stepId);
      if (!step || (step.state !== 'running' && step.state !== 'queued')) return;
      if (!step.attempts.every((x) => TERMINAL_ATTEMPT_STATES.includes(x.state) || x.state === 'awaiting_approval')) return;
      const candidates = step.attempts.filter((x) => x.state === 'awaiting_approval').map((x) => x.attemptId);
      if (candidates.length === 0) {
        settleStepIfDone(store, stepId, ENGINE_ACTOR);
        return;
      }
      const ws = this.deps.config.workspace(store.getRun(step.runId)?.workspaceId ?? '');
      const rule =
        step.attemptsRequested > 1
          ? `choose one of ${candidates.length} passing attempt(s)`
          : ws?.approval.policy === 'always'
            ? 'workspace approval policy: always'
            : 'approval requested by the planner';
      const attributesChangedBy = store.attemptsWithChangedAttributes(step.runId, candidates);
      store.createGate({ runId: step.runId, stepId, attemptId: candidates.length === 1 ? candidates[0]! : null, kind: 'approval', rule, candidates, attributesChangedBy }, ENGINE_ACTOR);
      store.transitionStep(stepId, 'awaiting_approval', {}, ENGINE_ACTOR);
    });
  }

  private failUnexpected(attemptId: string, err: unknown): void {
    this.deps.logger?.error({ err, attemptId }, 'attempt failed unexpectedly');
    const { store } = this.deps;
    try {
      const a = store.getAttempt(attemptId);
      if (!a || TERMINAL_ATTEMPT_STATES.includes(a.state)) return;
      store.transaction(() => {
        store.transitionAttempt(attemptId, 'failed', { failureCode: 'INTERNAL', summary: 'the engine failed while running this attempt; see the daemon log' }, ENGINE_ACTOR);
        this.openApprovalGateIfReady(a.stepId);
      });
    } catch (e) {
      this.deps.logger?.error({ err: e, attemptId }, 'could not record the failure; retrying');
      // A full or read-only disk: keep trying, so the attempt does not stay live until the next restart.
      if (!this.stopping) setTimeout(() => this.failUnexpected(attemptId, err), RECORD_RETRY_MS).unref();
    }
  }

  async cancelAttempt(attemptId: string, reason: string | null, actor: string): Promise<void> {
    const { store } = this.deps;
    const a = store.getAttempt(attemptId);
    if (!a) throw new SluiceError('ATTEMPT_NOT_FOUND');
    if (TERMINAL_ATTEMPT_STATES.includes(a.state)) return;
    const live = this.live.get(attemptId);
    if (live) {
      live.cancel ??= { reason, actor, shutdown: false };
      await live.kill?.();
      await live.finished;
      return;
    }
    // Queued, or waiting for approval: there is no process; record the outcome directly.
    store.transaction(() => {
      store.transitionAttempt(attemptId, 'cancelled', { failureCode: 'CANCELLED', summary: reason ?? 'cancelled' }, actor);
      for (const g of store.listGates(a.runId, 'pending')) {
        if (g.stepId !== a.stepId || g.kind !== 'approval') continue;
        const left = g.candidates.filter((id) => !TERMINAL_ATTEMPT_STATES.includes(store.getAttempt(id)?.state ?? 'cancelled'));
        if (left.length === 0) store.decideGate(g.gateId, { status: 'cancelled', reason: 'every candidate attempt was cancelled' }, actor);
      }
      this.openApprovalGateIfReady(a.stepId);
      settleStepIfDone(store, a.stepId, actor);
    });
  }

  async acceptAttempt(_gateId: string, attemptId: string, actor: string): Promise<void> {
    await acceptAttemptCommit(this.deps.store, this.deps.config, attemptId, actor);
  }

  /** Where `sluice/run/<runId>` points now, or null when it cannot be read. */
  private async branchHead(workspaceId: string, runId: string): Promise<string | null> {
    const ws = this.deps.config.workspace(workspaceId);
    return ws ? readRef(ws.path, runRef(runId)).catch(() => null) : null;
  }

  /**
   * A worktree of an attempt of this ledger that is no longer live was left by a crash (between the outcome and
   * the removal, or in the pool): remove it, unless the workspace keeps worktrees. Unknown attempts are not ours.
   */
  private async removeLeftoverWorktrees(): Promise<void> {
    const { store, config } = this.deps;
    for (const ws of Object.values(config.current.workspaces)) {
      if (ws.keepWorktrees) continue;
      const keep = (attemptId: string) => {
        const a = store.getAttempt(attemptId);
        return !a || LIVE.includes(a.state);
      };
      try {
        const removed = await this.worktrees(ws).removeLeftovers(ws.path, keep);
        if (removed.length > 0) this.deps.logger?.info({ workspace: ws.name, attempts: removed }, 'removed leftover worktrees');
      } catch (err) {
        this.deps.logger?.warn({ err, workspace: ws.name }, 'could not remove leftover worktrees');
      }
    }
  }

  /**
   * Crash recovery: attempts a previous daemon left preparing, running or validating are stopped if anything of
   * them still runs, their worktree changes are committed and recorded, and they become `interrupted`; their
   * steps settle (failed, hence retryable). Queued attempts stay queued and run normally.
   */
  private async recover(): Promise<void> {
    const { store, config } = this.deps;
    for (const a of store.attemptsInStates(LIVE)) {
      const ids = { runId: a.runId, stepId: a.stepId, attemptId: a.attemptId, budget: this.budget() };
      const patch: AttemptPatch = { failureCode: 'DAEMON_RESTARTED', summary: `the daemon stopped while this attempt was ${a.state}` };
      try {
        const run = store.getRun(a.runId);
        const ws = run ? config.workspace(run.workspaceId) : null;
        const scratch = join(this.deps.attemptsDir, a.attemptId);
        if (ws) {
          const mgr = this.worktrees(ws);
          const path = await mgr.find(ws.path, a.attemptId);
          killLeftoverGroup(join(scratch, 'pid'), path);
          if (path) {
            const wt: AttemptWorktree = { repoPath: ws.path, attemptId: a.attemptId, path, branch: a.branch, baseCommit: a.baseCommit, commit: null };
            const cap = await mgr.capture(wt, `sluice: attempt ${a.attemptId} (interrupted)`).catch(async (err: unknown) => {
              await mgr.discard(wt);
              throw err;
            });
            patch.commit = cap.commit;
            patch.changedFiles = cap.changedFiles.length;
            const diffRefused = await this.recordCapture(ids, cap, mgr, wt);
            if (diffRefused) patch.summary = `${patch.summary}; ${diffRefused.message}`;
            await recordArtifact(this.deps, ids, 'stdout', 'stdout', 'text/plain; charset=utf-8', { file: join(scratch, 'stdout'), optional: true });
            await recordArtifact(this.deps, ids, 'stderr', 'stderr', 'text/plain; charset=utf-8', { file: join(scratch, 'stderr'), optional: true });
            await mgr.release(wt);
          }
        }
      } catch (err) {
        this.deps.logger?.warn({ err, attemptId: a.attemptId }, 'could not capture the changes of an interrupted attempt');
      }
      this.dropScratchHome(a.attemptId);
      // The branch itself may already point at this attempt: the daemon died between the ref update and its record.
      const run = store.getRun(a.runId);
      const branchHead = run && patch.commit ? await this.branchHead(run.workspaceId, a.runId) : null;
      store.transaction(() => {
        const head = store.getRun(a.runId)?.headCommit;
        // The daemon died after fast-forwarding the run branch to this attempt but before recording it: it succeeded.
        const accepted = patch.commit && (patch.commit === head || patch.commit === branchHead) && patch.commit !== a.baseCommit;
        if (accepted && patch.commit !== head) store.setRunHead(a.runId, patch.commit!, ENGINE_ACTOR);
        if (accepted) store.transitionAttempt(a.attemptId, 'succeeded', { commit: patch.commit, changedFiles: patch.changedFiles ?? null }, ENGINE_ACTOR);
        else store.transitionAttempt(a.attemptId, 'interrupted', patch, ENGINE_ACTOR);
        this.openApprovalGateIfReady(a.stepId);
      });
    }
    await this.removeLeftoverWorktrees();
    // Steps of open runs whose attempts all ended (or wait) but that were not settled before the stop.
    let cursor: string | undefined;
    do {
      const page = store.listRuns({ workspaceIds: null, state: 'open', limit: 100, cursor });
      for (const run of page.runs) {
        for (const s of store.getRunDetail(run.runId)?.steps ?? []) if (s.state === 'running') this.openApprovalGateIfReady(s.stepId);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}

export type { ArtifactKind };
