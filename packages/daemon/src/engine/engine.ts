import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError, type Attempt } from '@sluice/shared-protocol';
import type { WorkspaceConfig } from '../config/schema.js';
import { WorktreeManager } from '../git/worktree-manager.js';
import type { EnginePort } from '../runs/engine-port.js';
import { acceptAttemptCommit } from '../runs/run-branch.js';
import { attemptEnded } from '../runs/step-state.js';
import { cancelIdleAttempt, recordAttemptEnding } from '../runs/step-outcome.js';
import type { ArtifactKind } from './artifact-recorder.js';
import { AttemptRun, type LiveAttempt } from './attempt-run.js';
import { ENGINE_ACTOR, type EngineDeps, type EngineOptions } from './engine-types.js';
import { recover } from './recovery.js';
import { removeScratchHome } from './scratch-home.js';

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
    await recover({ deps: this.deps, worktrees: (ws) => this.worktrees(ws), dropScratchHome: (id) => this.dropScratchHome(id) });
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
    live.finished = this.runAttempt(a, live)
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

  /** One attempt from `queued` to an outcome (async, so that even a failing setup ends as a rejection). */
  private async runAttempt(a: Attempt, live: LiveAttempt): Promise<void> {
    const ctx = { deps: this.deps, worktrees: (ws: WorkspaceConfig) => this.worktrees(ws), outputCapBytes: this.opts.outputCapBytes, graceMs: () => this.graceMs(), env: this.opts.env ?? process.env };
    await new AttemptRun(ctx, a, live).execute();
  }

  private failUnexpected(attemptId: string, err: unknown): void {
    this.deps.logger?.error({ err, attemptId }, 'attempt failed unexpectedly');
    try {
      const a = this.deps.store.getAttempt(attemptId);
      if (!a || attemptEnded(a.state)) return;
      const summary = 'the engine failed while running this attempt; see the daemon log';
      recordAttemptEnding(this.deps.store, this.deps.config, attemptId, 'failed', { failureCode: 'INTERNAL', summary });
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
    if (attemptEnded(a.state)) return;
    const live = this.live.get(attemptId);
    if (live) {
      live.cancel ??= { reason, actor, shutdown: false };
      await live.kill?.();
      await live.finished;
      return;
    }
    // Queued, or waiting for approval: there is no process; record the outcome directly.
    cancelIdleAttempt(store, this.deps.config, attemptId, reason, actor);
  }

  async acceptAttempt(_gateId: string, attemptId: string, actor: string): Promise<void> {
    await acceptAttemptCommit(this.deps.store, this.deps.config, attemptId, actor);
  }
}

export type { ArtifactKind };
