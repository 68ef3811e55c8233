import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SluiceError, type Attempt, type AttemptFailureCode, type Run, type Step } from '@sluice/shared-protocol';
import type { WorkspaceConfig } from '../config/schema.js';
import { ExecutorError, executorFailure, getAdapter, preflightExecutor, type ExecutorAdapter, type ExecutorSpec, type ParsedOutput } from '../executors/index.js';
import { CaptureError, type AttemptWorktree, type Capture, type WorktreeManager } from '../git/worktree-manager.js';
import { buildChildEnv, spawnSupervised, type ProcessResult, type SpawnSpec, type SupervisedProcess } from '../process/index.js';
import { needsApproval } from '../runs/acceptance.js';
import { fastForwardRun } from '../runs/run-branch.js';
import { openApprovalGateIfReady, recordAttemptEnding, settleStepIfDone, type AttemptEnding } from '../runs/step-outcome.js';
import type { AttemptPatch } from '../store/index.js';
import { runValidation } from '../validations/index.js';
import { recordScan, unreleasedFindings } from '../secrets/findings.js';
import { secretRulesIn } from '../secrets/scanner.js';
import { AttemptSandbox, SandboxRefusal, defaultHomeEntries, defaultHosts, sandboxAvailability, type ChildSpec, type Destination, type SandboxTools } from '../sandbox/index.js';
import { ArtifactLimitError, recordArtifact, type ArtifactTarget } from './artifact-recorder.js';
import { attemptBudget, recordCapture, recordOutputFiles } from './capture-artifacts.js';
import { ENGINE_ACTOR, type EngineDeps } from './engine-types.js';
import { LogPump } from './log-pump.js';
import { homeEnv, makeScratchHome } from './scratch-home.js';

export interface CancelRequest {
  reason: string | null;
  actor: string;
  /** The daemon is stopping: record `interrupted`, not `cancelled`. */
  shutdown: boolean;
}

/** The engine's handle on an attempt it runs. */
export interface LiveAttempt {
  attemptId: string;
  workspaceId: string;
  cancel: CancelRequest | null;
  /** Stops whatever process the attempt is running now. */
  kill: (() => Promise<unknown>) | null;
  finished: Promise<void>;
}

/** What one attempt run needs from its engine. */
export interface AttemptRunContext {
  deps: EngineDeps;
  worktrees: (ws: WorkspaceConfig) => WorktreeManager;
  outputCapBytes: number;
  /** Read when each process starts: the config may change while an attempt runs. */
  graceMs: () => number;
  env: NodeJS.ProcessEnv;
}

/** How a phase ended the attempt; a phase that lets the next one run returns null. */
interface Ending {
  to: AttemptEnding;
  patch: AttemptPatch;
  actor?: string;
}

/** A validation or the setup step: no network and no HOME entries unless its policy lists them. */
const plainChild = (policy: ChildSpec['policy']): ChildSpec => ({ policy, defaultHosts: [], defaultHomeEntries: [] });
const failed = (failureCode: AttemptFailureCode, summary: string, patch: AttemptPatch = {}): Ending => ({ to: 'failed', patch: { ...patch, failureCode, summary } });
const messageOf = (err: unknown, fallback: string) => (err instanceof Error ? err.message.slice(0, 500) : fallback);

/**
 * One attempt from `queued` to its outcome, in phases: prepare (workspace, executor, task file, preflight), the
 * worktree, the executor, the capture of every change, the outputs and their verdict, the validations, then the
 * gate or the acceptance. Each phase either hands on to the next or returns the ending to record.
 */
export class AttemptRun {
  private readonly run: Run;
  private readonly step: Step;
  private readonly ids: ArtifactTarget;
  private readonly scratch: string;
  private readonly taskFile: string;
  private readonly output: { stdout: string; stderr: string };
  private taskRecorded: Promise<unknown> | null = null;
  private ws!: WorkspaceConfig;
  private spec!: ExecutorSpec;
  private entry!: WorkspaceConfig['executors'][string];
  private adapter!: ExecutorAdapter;
  private scratchHome!: string;
  private childEnv!: Record<string, string>;
  private binaryPath!: string;
  private mgr!: WorktreeManager;
  private wt!: AttemptWorktree;
  private cap!: Capture;
  private patch: AttemptPatch = {};
  /** Null when the workspace says `"sandbox": "off"`. */
  private sandboxTools: SandboxTools | null = null;
  private sandbox: AttemptSandbox | null = null;

  constructor(
    private readonly ctx: AttemptRunContext,
    private readonly a: Attempt,
    private readonly live: LiveAttempt,
  ) {
    const { store, attemptsDir, config } = ctx.deps;
    this.run = store.getRun(a.runId)!;
    this.step = store.getStep(a.stepId)!;
    this.ids = { runId: a.runId, stepId: a.stepId, attemptId: a.attemptId, budget: attemptBudget(config.current) };
    this.scratch = join(attemptsDir, a.attemptId);
    this.taskFile = join(this.scratch, 'task.md');
    this.output = { stdout: join(this.scratch, 'stdout'), stderr: join(this.scratch, 'stderr') };
  }

  async execute(): Promise<void> {
    this.markPreparing();
    const early = (await this.prepare()) ?? (await this.prepareWorktree());
    if (early) return this.finish(early);
    const result = await this.runExecutor();
    await this.recordTask();
    const notCaptured = await this.capture();
    if (notCaptured) return this.finish(notCaptured);
    try {
      const parsed = await this.recordOutputs(result);
      const ending = this.judge(result, parsed) ?? (await this.validate()) ?? (await this.gateOrAccept());
      if (ending) this.finish(ending);
    } catch (err) {
      if (err instanceof ArtifactLimitError || err instanceof CaptureError) return this.finish(failed(err.code, err.message.slice(0, 500), this.patch));
      throw err;
    } finally {
      if (this.wt.commit) await this.mgr.release(this.wt).catch((err: unknown) => this.ctx.deps.logger?.warn({ err }, 'worktree removal failed'));
    }
  }

  /** The attempt starts from the run branch head as it is now: the previous step's accepted work. */
  private markPreparing(): void {
    const { store } = this.ctx.deps;
    store.transaction(() => {
      store.transitionAttempt(this.a.attemptId, 'preparing', { baseCommit: this.run.headCommit }, ENGINE_ACTOR);
      if (store.getStep(this.a.stepId)!.state === 'queued') store.transitionStep(this.a.stepId, 'running', {}, ENGINE_ACTOR);
    });
  }

  /** The workspace and executor still configured, the task file and scratch HOME, then the executor's preflight. */
  private async prepare(): Promise<Ending | null> {
    const ws = this.ctx.deps.config.workspace(this.run.workspaceId);
    if (!ws) return failed('WORKSPACE_NOT_FOUND', 'the workspace is no longer registered');
    const { executor } = this.step;
    const entry = Object.prototype.hasOwnProperty.call(ws.executors, executor) ? ws.executors[executor] : undefined;
    if (!entry) return failed('EXECUTOR_MISCONFIGURED', `executor ${executor} is no longer configured`);
    this.ws = ws;
    this.entry = entry;
    this.spec = { ...entry, commands: entry.policy.commands };
    this.adapter = getAdapter(entry.adapter);
    mkdirSync(this.scratch, { recursive: true, mode: 0o700 });
    writeFileSync(this.taskFile, this.step.task, { mode: 0o600 });
    if (ws.sandbox === 'on') {
      const available = sandboxAvailability();
      if (!available.ok) {
        await this.recordTask();
        return failed('SANDBOX_UNAVAILABLE', available.reason);
      }
      this.sandboxTools = available.tools;
    }
    this.scratchHome = makeScratchHome(this.scratch);
    this.childEnv = buildChildEnv(entry.env ?? [], homeEnv(entry.policy, this.scratchHome), this.ctx.env);
    try {
      const preflight = await preflightExecutor(this.adapter, entry, this.childEnv, this.scratch);
      this.binaryPath = preflight.binaryPath;
      this.logLines(preflight.warnings.map((w) => `warning: ${w}`));
    } catch (err) {
      if (!(err instanceof ExecutorError)) throw err;
      await this.recordTask();
      return failed(err.code, err.message);
    }
    return this.live.cancel ? this.cancelled({}) : null;
  }

  private async prepareWorktree(): Promise<Ending | null> {
    this.mgr = this.ctx.worktrees(this.ws);
    try {
      this.wt = await this.mgr.create(this.ws.path, this.a.attemptId, this.run.headCommit);
    } catch (err) {
      await this.recordTask();
      return failed('WORKTREE_FAILED', messageOf(err, 'worktree creation failed'));
    }
    const refused = this.openSandbox();
    if (refused) {
      await this.recordTask();
      await this.mgr.discard(this.wt).catch((e: unknown) => this.ctx.deps.logger?.warn({ err: e }, 'worktree removal failed'));
      return failed('SANDBOX_UNAVAILABLE', refused);
    }
    return this.runSetup();
  }

  /** The attempt's sandbox, with every policy it will use checked now: nothing runs when one is refused. */
  private openSandbox(): string | null {
    if (!this.sandboxTools) return null;
    const { deps, env } = this.ctx;
    const runtimeRoot = dirname(deps.attemptsDir);
    const connector = env.SLUICE_CONNECTOR_CONFIG ? [dirname(env.SLUICE_CONNECTOR_CONFIG)] : [];
    this.sandbox = new AttemptSandbox({
      tools: this.sandboxTools,
      attemptId: this.a.attemptId,
      worktree: this.wt.path,
      gitCommonDir: this.wt.commonDir,
      repoPath: this.ws.path,
      deps: this.ws.deps,
      scratchHome: this.scratchHome,
      operatorHome: env.HOME ?? null,
      protectedRoots: [...(deps.homeDir ? [deps.homeDir] : []), runtimeRoot, deps.worktreesDir, ...(this.ws.worktreeRoot ? [this.ws.worktreeRoot] : []), ...connector],
      onDenied: (d, why) => this.recordNetworkDenial(d, why),
    });
    try {
      const env0 = { ...this.childEnv };
      this.sandbox.mounts(this.executorChild({}), env0, this.binaryPath);
      for (const name of this.step.validations) {
        const v = Object.prototype.hasOwnProperty.call(this.ws.validations, name) ? this.ws.validations[name] : undefined;
        if (v) this.sandbox.mounts(plainChild(v.policy), env0, v.argv[0] ?? '');
      }
      if (this.ws.setup) this.sandbox.mounts(plainChild(this.ws.setup.policy), env0, this.ws.setup.argv[0] ?? '');
      return null;
    } catch (err) {
      if (err instanceof SandboxRefusal) return err.message;
      throw err;
    }
  }

  /** The executor as a sandboxed child: its model API by default, its login folder when HOME is passed through. */
  private executorChild(invEnv: Record<string, string>, writable: string[] = []): ChildSpec {
    return {
      policy: this.entry.policy,
      defaultHosts: defaultHosts(this.entry.adapter, { ...this.childEnv, ...invEnv }),
      defaultHomeEntries: defaultHomeEntries(this.entry.adapter),
      readOnly: [this.taskFile],
      writable: writable.filter((d) => !d.startsWith(this.scratchHome)),
    };
  }

  /** Spawn one child of the attempt, confined unless the workspace says `"sandbox": "off"`; recorded either way. */
  private async spawnChild(spec: SpawnSpec, child: ChildSpec, label: string): Promise<SupervisedProcess> {
    const target = { runId: this.ids.runId, stepId: this.ids.stepId, attemptId: this.ids.attemptId };
    if (!this.sandbox) {
      this.ctx.deps.store.appendEvent({ type: 'attempt.sandbox', ...target, data: { child: label, mode: 'off' } }, ENGINE_ACTOR);
      return spawnSupervised(spec);
    }
    const hosts = [...(child.policy.network.allow ?? child.defaultHosts)];
    const limits = `${this.sandboxTools?.cgroups ? 'cgroup' : 'rlimit'} processes ${child.policy.limits.processes}, memory ${child.policy.limits.memory}, open files ${child.policy.limits.openFiles}`;
    this.ctx.deps.store.appendEvent({ type: 'attempt.sandbox', ...target, data: { child: label, mode: 'bwrap', hosts, limits } }, ENGINE_ACTOR);
    return this.sandbox.spawn(spec, child);
  }

  /** A validation or the setup step started: it is what a cancel stops now, also one that came in just before. */
  private onChildStart(cancel: () => Promise<unknown>): void {
    this.live.kill = cancel;
    if (this.live.cancel) void cancel();
  }

  private recordNetworkDenial(d: Destination, why: string): void {
    const target = { runId: this.ids.runId, stepId: this.ids.stepId, attemptId: this.ids.attemptId };
    const { store } = this.ctx.deps;
    store.appendEvent({ type: 'attempt.network_denied', ...target, data: { host: d.host, port: d.port, reason: why } }, ENGINE_ACTOR);
    store.appendEvent({ type: 'attempt.log', ...target, data: { lines: [{ stream: 'sluice', text: `sandbox: network denied: ${d.host}:${d.port} (${why})` }] } }, ENGINE_ACTOR);
  }

  /** The workspace's setup step in the fresh worktree (dependencies), confined like the executor. */
  private async runSetup(): Promise<Ending | null> {
    const setup = this.ws.setup;
    if (!setup) return null;
    const r = await runValidation(
      { name: 'setup', argv: setup.argv, timeoutMs: setup.timeout, env: setup.env },
      { worktree: this.wt.path, outDir: this.scratch, graceMs: this.ctx.graceMs(), outputCapBytes: this.ctx.outputCapBytes, env: homeEnv(setup.policy, this.scratchHome), onStart: (c) => this.onChildStart(c), spawn: (spec) => this.spawnChild(spec, plainChild(setup.policy), 'setup') },
    );
    this.live.kill = null;
    await recordArtifact(this.ctx.deps, this.ids, 'validation-stdout', 'setup.stdout', 'text/plain; charset=utf-8', { file: r.stdoutPath });
    await recordArtifact(this.ctx.deps, this.ids, 'validation-stderr', 'setup.stderr', 'text/plain; charset=utf-8', { file: r.stderrPath });
    if (this.live.cancel) return this.cancelled({});
    if (r.passed) return null;
    await this.recordTask();
    await this.mgr.discard(this.wt).catch((e: unknown) => this.ctx.deps.logger?.warn({ err: e }, 'worktree removal failed'));
    return failed('SETUP_FAILED', `setup ${setup.argv.join(' ')} ${r.timedOut ? 'timed out' : r.error ?? `exited ${String(r.exitCode)}`}`);
  }

  /** The adapter builds the invocation, the supervisor runs it; null when a cancel came first. */
  private async runExecutor(): Promise<ProcessResult | null> {
    const { a, live, wt, step } = this;
    const stateDir = this.entry.policy.home.passThrough ? null : this.scratchHome;
    const inv = this.adapter.buildInvocation(this.spec, { task: step.task, worktree: wt.path, taskFile: this.taskFile, scratchDir: this.scratch, binaryPath: this.binaryPath, attemptId: a.attemptId, attemptNumber: a.number, stateDir });
    for (const d of inv.dirs ?? []) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const f of inv.files ?? []) {
      mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
      writeFileSync(f.path, f.content, { mode: 0o600 });
    }
    if (live.cancel) return null;
    const pump = new LogPump(this.ctx.deps.store, this.ids, ENGINE_ACTOR, this.adapter.liveLines);
    const proc = await this.spawnChild({
      argv: inv.argv,
      cwd: wt.path,
      env: { ...this.childEnv, ...inv.env },
      stdin: inv.stdin,
      stdoutPath: this.output.stdout,
      stderrPath: this.output.stderr,
      outputCapBytes: this.ctx.outputCapBytes,
      timeoutMs: step.timeoutMs,
      idleTimeoutMs: this.entry.idleTimeout,
      graceMs: this.ctx.graceMs(),
      onStdout: (c) => pump.push('stdout', c),
      onStderr: (c) => pump.push('stderr', c),
    }, this.executorChild(inv.env, inv.dirs ?? []), 'executor');
    if (proc.pid !== undefined) writeFileSync(join(this.scratch, 'pid'), `${proc.pid}\n${wt.path}\n`, { mode: 0o600 });
    live.kill = () => proc.cancel();
    this.ctx.deps.store.transitionAttempt(a.attemptId, 'running', {}, ENGINE_ACTOR);
    if (live.cancel) void proc.cancel();
    void this.recordTask();
    const result = await proc.done;
    live.kill = null;
    pump.flush(true);
    return result;
  }

  /** Every change is committed before anything else happens, also after a cancel or a timeout. */
  private async capture(): Promise<Ending | null> {
    try {
      this.cap = await this.mgr.capture(this.wt, `sluice: attempt ${this.a.attemptId} (step ${this.step.seq} of ${this.run.runId})`);
    } catch (err) {
      // The changes cannot be committed, so nothing is gained by keeping the worktree: it would stay forever.
      await this.mgr.discard(this.wt).catch((e: unknown) => this.ctx.deps.logger?.warn({ err: e }, 'worktree removal failed'));
      return failed(err instanceof CaptureError ? err.code : 'CAPTURE_FAILED', messageOf(err, 'capture failed'));
    }
    this.patch = { commit: this.cap.commit, changedFiles: this.cap.changedFiles.length };
    return null;
  }

  /** The capture, the agent's output and its parsed log; a refused diff is thrown only once the output is kept. */
  private async recordOutputs(result: ProcessResult | null): Promise<ParsedOutput> {
    const { deps } = this.ctx;
    const diffRefused = await recordCapture(deps, this.ids, this.cap, this.mgr, this.wt);
    if (result) {
      this.patch.exitCode = result.exitCode;
      await recordOutputFiles(deps, this.ids, this.output, false);
    }
    const rawStdout = result ? readFileSync(this.output.stdout, 'utf8') : '';
    const parsed = this.adapter.parseOutput(rawStdout, result ? readFileSync(this.output.stderr, 'utf8') : '');
    if (parsed.denied.length > 0) this.recordDenials(parsed.denied);
    this.patch.summary = parsed.summary;
    if (parsed.summary) recordScan(deps.store, this.ids, { kind: 'summary', id: this.a.attemptId }, secretRulesIn(parsed.summary), ENGINE_ACTOR);
    if (result && parsed.log && parsed.log !== rawStdout) await recordArtifact(deps, this.ids, 'log', 'log', 'text/plain; charset=utf-8', { data: parsed.log });
    // Whoever looks into a too-large diff needs the agent's output.
    if (diffRefused) throw diffRefused;
    return parsed;
  }

  /** How the executor's run ended: cancelled, timed out, not started, failed, reported a failure, or passed on. */
  private judge(result: ProcessResult | null, parsed: ParsedOutput): Ending | null {
    const { patch } = this;
    if (this.live.cancel || !result || result.cancelled) return this.cancelled(patch);
    const failure = executorFailure(result, parsed, { timeoutMs: this.step.timeoutMs, idleTimeoutMs: this.entry.idleTimeout });
    if (!failure) return null;
    if (failure.code === 'TIMED_OUT') return { to: 'timed_out', patch: { ...patch, failureCode: failure.code, summary: failure.summary } };
    return failed(failure.code, failure.summary, patch);
  }

  /**
   * Actions the agent's CLI refused under its policy: an event, one log line each, and the attempt's count (set
   * with its ending), for the planner.
   */
  private recordDenials(denied: readonly string[]): void {
    const target = { runId: this.ids.runId, stepId: this.ids.stepId, attemptId: this.ids.attemptId };
    this.ctx.deps.store.appendEvent({ type: 'attempt.denied', ...target, data: { count: denied.length, actions: denied } }, ENGINE_ACTOR);
    this.logLines(denied.map((d) => `denied: ${d}`));
    this.patch.deniedActions = denied.length;
  }

  /** Lines of Sluice's own about this attempt (stream `sluice`) in one `attempt.log` event. */
  private logLines(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const target = { runId: this.ids.runId, stepId: this.ids.stepId, attemptId: this.ids.attemptId };
    this.ctx.deps.store.appendEvent({ type: 'attempt.log', ...target, data: { lines: lines.map((text) => ({ stream: 'sluice', text })) } }, ENGINE_ACTOR);
  }

  /** The step's validations in the worktree, one after the other, then the validation gate. */
  private async validate(): Promise<Ending | null> {
    const { store } = this.ctx.deps;
    const { a, step, live } = this;
    if (step.validations.length === 0) return null;
    store.transitionAttempt(a.attemptId, 'validating', this.patch, ENGINE_ACTOR);
    let allPassed = true;
    for (const name of step.validations) {
      const v = Object.prototype.hasOwnProperty.call(this.ws.validations, name) ? this.ws.validations[name] : undefined;
      if (!v) return failed('VALIDATION_NOT_DEFINED', `validation ${name} is no longer configured`);
      if (live.cancel) return this.cancelled({});
      const r = await runValidation(
        { name, argv: v.argv, timeoutMs: v.timeout, env: v.env },
        { worktree: this.wt.path, outDir: this.scratch, graceMs: this.ctx.graceMs(), outputCapBytes: this.ctx.outputCapBytes, env: homeEnv(v.policy, this.scratchHome), onStart: (c) => this.onChildStart(c), spawn: (spec) => this.spawnChild(spec, plainChild(v.policy), `validation ${name}`) },
      );
      live.kill = null;
      if (live.cancel) return this.cancelled({});
      const out = await recordArtifact(this.ctx.deps, this.ids, 'validation-stdout', `${name}.stdout`, 'text/plain; charset=utf-8', { file: r.stdoutPath });
      const err = await recordArtifact(this.ctx.deps, this.ids, 'validation-stderr', `${name}.stderr`, 'text/plain; charset=utf-8', { file: r.stderrPath });
      store.recordValidation(
        { attemptId: a.attemptId, name, argv: r.argv, passed: r.passed, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs, stdoutDigest: out?.digest ?? null, stderrDigest: err?.digest ?? null },
        ENGINE_ACTOR,
      );
      if (!r.passed) allPassed = false;
    }
    store.createGate(
      { runId: a.runId, stepId: a.stepId, attemptId: a.attemptId, kind: 'validation', rule: `all of: ${step.validations.join(', ')}`, candidates: [a.attemptId], status: allPassed ? 'passed' : 'failed', attributesChangedBy: this.cap.attributesFiles.length > 0 ? [a.attemptId] : [] },
      ENGINE_ACTOR,
    );
    return allPassed ? null : failed('VALIDATION_FAILED', this.patch.summary ?? 'a validation failed');
  }

  /** Wait for a human (or a choice among attempts, or a secret review), or fast-forward the run branch and succeed. */
  private async gateOrAccept(): Promise<Ending | null> {
    const { store, config } = this.ctx.deps;
    const { a, patch } = this;
    if (needsApproval(this.step) || unreleasedFindings(store, a.attemptId).length > 0) {
      store.transaction(() => {
        store.transitionAttempt(a.attemptId, 'awaiting_approval', patch, ENGINE_ACTOR);
        openApprovalGateIfReady(store, config, a.stepId);
      });
      return null;
    }
    try {
      await fastForwardRun(store, this.ws.path, a.runId, this.cap.commit, ENGINE_ACTOR);
    } catch (err) {
      if (err instanceof SluiceError && err.code === 'RUN_BRANCH_MOVED') return failed('RUN_BRANCH_MOVED', err.message, patch);
      throw err;
    }
    store.transaction(() => {
      store.transitionAttempt(a.attemptId, 'succeeded', patch, ENGINE_ACTOR);
      settleStepIfDone(store, a.stepId, ENGINE_ACTOR);
    });
    return null;
  }

  /** Cancelled by a caller, or interrupted when the daemon stops. */
  private cancelled(patch: AttemptPatch): Ending {
    const c = this.live.cancel ?? { reason: null, actor: ENGINE_ACTOR, shutdown: false };
    if (c.shutdown) return { to: 'interrupted', patch: { ...patch, failureCode: 'DAEMON_STOPPED', summary: 'the daemon stopped while this attempt was live' }, actor: c.actor };
    return { to: 'cancelled', patch: { ...patch, failureCode: 'CANCELLED', decisionReason: c.reason }, actor: c.actor };
  }

  /** Record the ending and settle the step (or open its approval gate when the other attempts are waiting). */
  private finish(e: Ending): void {
    recordAttemptEnding(this.ctx.deps.store, this.ctx.deps.config, this.a.attemptId, e.to, e.patch, e.actor);
  }

  /** Recorded while the executor starts: it is not on the path from dispatch to a running agent. */
  private recordTask(): Promise<unknown> {
    this.taskRecorded ??= recordArtifact(this.ctx.deps, this.ids, 'task', 'task.md', 'text/markdown; charset=utf-8', { file: this.taskFile }).catch((err: unknown) =>
      this.ctx.deps.logger?.warn({ err, attemptId: this.a.attemptId }, 'could not record the task artifact'),
    );
    return this.taskRecorded;
  }
}
