import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  EVENT_TYPE_PATTERN,
  SluiceError,
  TERMINAL_ATTEMPT_STATES,
  newId,
  type ArtifactRef,
  type AttemptFailureCode,
  type Attempt,
  type AttemptState,
  type Event,
  type EventType,
  type Gate,
  type GateStatus,
  type Run,
  type RunState,
  type Step,
  type StepState,
  type ValidationResult,
} from '@sluice/shared-protocol';
import { auditRowHash, GENESIS_HASH } from './audit-chain.js';
import { EventBus } from './event-bus.js';
import { LedgerReader } from './reads.js';
import type { AttemptRow, RunRow, StepRow } from './rows.js';
import { attemptTransitionAllowed, runTransitionAllowed, stepTransitionAllowed } from '../runs/state-machine.js';

/** A state change the state machine does not allow; nothing was written. */
export class TransitionRefusedError extends Error {
  constructor(
    readonly entity: 'run' | 'step' | 'attempt',
    readonly from: string,
    readonly to: string,
  ) {
    super(`${entity} cannot move from ${from} to ${to}`);
    this.name = 'TransitionRefusedError';
  }
}

/** What `dispatchStep` records. */
export interface DispatchStepInput {
  runId: string;
  executor: string;
  task: string;
  validations: readonly string[];
  approvalRequired: boolean;
  timeoutMs: number;
  attemptsRequested: number;
  idempotencyKey: string | null;
  /** Identifies the request under its idempotency key: a retry with another hash is a conflict. */
  requestHash: string;
  actor: string;
}

/** Fields of an attempt a transition may set alongside its state. */
export interface AttemptPatch {
  commit?: string | null;
  exitCode?: number | null;
  failureCode?: AttemptFailureCode | null;
  summary?: string | null;
  /** Why a canceller or a reviewer ended the attempt; kept apart from the executor's summary. */
  decisionReason?: string | null;
  changedFiles?: number | null;
  /** How many actions the agent's CLI refused (each one is in an `attempt.denied` event). */
  deniedActions?: number;
  startedAt?: string | null;
  endedAt?: string | null;
  baseCommit?: string;
  branch?: string;
}

/** What `recordValidation` records. */
export type ValidationInput = Omit<ValidationResult, 'createdAt'>;

/** What `appendEvent` records. */
export interface EventInput {
  type: EventType;
  runId: string;
  stepId?: string | null;
  attemptId?: string | null;
  data?: Record<string, unknown>;
}

/** One audit row to append. */
export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  outcome: string;
  details?: Record<string, unknown>;
}

type Entity = 'run' | 'step' | 'attempt';
const TABLE: Record<Entity, { table: string; key: string }> = {
  run: { table: 'runs', key: 'run_id' },
  step: { table: 'steps', key: 'step_id' },
  attempt: { table: 'attempts', key: 'attempt_id' },
};

/**
 * The ledger. Every write is one transaction: the append-only transition row, the projection update and the
 * event row commit together, and the bus is notified after the commit.
 */
export class Store extends LedgerReader {
  readonly bus = new EventBus();
  private depth = 0;
  private readonly queued: { e: EventInput; actor: string; resolve: (ev: Event) => void; reject: (err: unknown) => void }[] = [];
  private notice: { cursor: number; runIds: Set<string> } | null = null;
  private readonly now: () => Date;
  private readonly rand: (n: number) => Uint8Array;

  constructor(db: Database.Database, opts: { now?: () => Date; randomBytes?: (n: number) => Uint8Array } = {}) {
    super(db);
    this.now = opts.now ?? (() => new Date());
    this.rand = opts.randomBytes ?? ((n) => randomBytes(n));
  }

  /** Run `fn` in one IMMEDIATE transaction (nested calls join the outer one); notify the bus after commit. */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.notice = null;
      throw err;
    } finally {
      this.depth--;
    }
    const notice = this.notice;
    this.notice = null;
    if (notice) this.bus.publish(notice);
    return result;
  }

  private ts(): string {
    return this.now().toISOString();
  }

  private id(kind: 'run' | 'step' | 'attempt' | 'gate' | 'artifact'): string {
    return newId(kind, this.rand);
  }

  private insertEvent(e: EventInput, actor: string, at: string): Event {
    if (!EVENT_TYPE_PATTERN.test(e.type)) throw new Error(`event type ${JSON.stringify(e.type)} must be dotted lowercase, e.g. attempt.state_changed`);
    const data = e.data ?? {};
    const info = this.stmt('INSERT INTO events (type, run_id, step_id, attempt_id, actor, at, data) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.type, e.runId, e.stepId ?? null, e.attemptId ?? null, actor, at, JSON.stringify(data));
    const cursor = Number(info.lastInsertRowid);
    if (!this.notice) this.notice = { cursor, runIds: new Set() };
    this.notice.cursor = cursor;
    this.notice.runIds.add(e.runId);
    return { cursor, type: e.type, runId: e.runId, stepId: e.stepId ?? null, attemptId: e.attemptId ?? null, actor, at, data };
  }

  private recordTransition(entity: Entity, id: string, runId: string, from: string | null, to: string, actor: string, at: string): void {
    const { table, key } = TABLE[entity];
    const snapshot = this.stmt(`SELECT * FROM ${table} WHERE ${key} = ?`).get(id);
    this.stmt('INSERT INTO transitions (entity, entity_id, run_id, from_state, to_state, snapshot, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(entity, id, runId, from, to, JSON.stringify(snapshot), actor, at);
  }

  private runRow(runId: string): RunRow {
    const row = this.stmt('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    if (!row) throw new SluiceError('RUN_NOT_FOUND');
    return row;
  }

  private stepRow(stepId: string): StepRow {
    const row = this.getStepRow(stepId);
    if (!row) throw new SluiceError('STEP_NOT_FOUND');
    return row;
  }

  private attemptRow(attemptId: string): AttemptRow {
    const row = this.stmt('SELECT * FROM attempts WHERE attempt_id = ?').get(attemptId) as AttemptRow | undefined;
    if (!row) throw new SluiceError('ATTEMPT_NOT_FOUND');
    return row;
  }

  /** Record a new open run (its branch already exists in git). */
  openRun(input: { runId?: string; workspaceId: string; title: string; baseRef: string; baseCommit: string; branch: string; actor: string }): Run {
    return this.transaction(() => {
      const at = this.ts();
      const runId = input.runId ?? this.id('run');
      this.stmt(
          `INSERT INTO runs (run_id, workspace_id, title, state, base_ref, base_commit, branch, head_commit, created_by, updated_by, created_at, updated_at)
           VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(runId, input.workspaceId, input.title, input.baseRef, input.baseCommit, input.branch, input.baseCommit, input.actor, input.actor, at, at);
      this.recordTransition('run', runId, runId, null, 'open', input.actor, at);
      this.insertEvent({ type: 'run.opened', runId, data: { workspaceId: input.workspaceId, baseRef: input.baseRef, baseCommit: input.baseCommit, branch: input.branch } }, input.actor, at);
      return this.getRun(runId)!;
    });
  }

  /** Queue a step and its attempts; the same `(runId, idempotencyKey)` returns the existing step. */
  dispatchStep(input: DispatchStepInput): { step: Step; created: boolean } {
    return this.transaction(() => {
      const run = this.runRow(input.runId);
      if (input.idempotencyKey !== null) {
        const existing = this.stmt('SELECT * FROM steps WHERE run_id = ? AND idempotency_key = ?').get(input.runId, input.idempotencyKey) as StepRow | undefined;
        if (existing) {
          if (existing.request_hash !== input.requestHash) throw new SluiceError('IDEMPOTENCY_CONFLICT');
          return { step: this.getStep(existing.step_id)!, created: false };
        }
      }
      if (run.state !== 'open') throw new SluiceError('RUN_NOT_OPEN');
      const at = this.ts();
      const stepId = this.id('step');
      const seq = (this.stmt('SELECT coalesce(max(seq), 0) + 1 AS n FROM steps WHERE run_id = ?').get(input.runId) as { n: number }).n;
      this.stmt(
          `INSERT INTO steps (step_id, run_id, seq, executor, task, validations, approval_required, timeout_ms, attempts_requested, state,
             accepted_attempt_id, idempotency_key, request_hash, created_by, updated_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', NULL, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          stepId,
          input.runId,
          seq,
          input.executor,
          input.task,
          JSON.stringify(input.validations),
          input.approvalRequired ? 1 : 0,
          input.timeoutMs,
          input.attemptsRequested,
          input.idempotencyKey,
          input.requestHash,
          input.actor,
          input.actor,
          at,
          at,
        );
      this.recordTransition('step', stepId, input.runId, null, 'queued', input.actor, at);
      this.insertEvent(
        { type: 'step.queued', runId: input.runId, stepId, data: { seq, executor: input.executor, attempts: input.attemptsRequested, validations: [...input.validations], approvalRequired: input.approvalRequired } },
        input.actor,
        at,
      );
      this.insertAttempts(this.stepRow(stepId), run, input.attemptsRequested, input.actor, at);
      return { step: this.getStep(stepId)!, created: true };
    });
  }

  private insertAttempts(step: StepRow, run: RunRow, n: number, actor: string, at: string): Attempt[] {
    const first = (this.stmt('SELECT coalesce(max(number), 0) AS n FROM attempts WHERE step_id = ?').get(step.step_id) as { n: number }).n;
    const out: Attempt[] = [];
    for (let slot = 1; slot <= n; slot++) {
      const attemptId = this.id('attempt');
      const number = first + slot;
      this.stmt(
          `INSERT INTO attempts (attempt_id, step_id, run_id, number, slot, state, executor, branch, base_commit, created_by, updated_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(attemptId, step.step_id, step.run_id, number, slot, step.executor, `sluice/attempt/${attemptId}`, run.head_commit, actor, actor, at, at);
      this.recordTransition('attempt', attemptId, step.run_id, null, 'queued', actor, at);
      this.insertEvent({ type: 'attempt.created', runId: step.run_id, stepId: step.step_id, attemptId, data: { number, baseCommit: run.head_commit } }, actor, at);
      out.push(this.getAttempt(attemptId)!);
    }
    return out;
  }

  /** New queued attempts of a step (retry); a failed or cancelled step goes back to `queued` in the same transaction. */
  createAttempts(stepId: string, n: number, actor: string): Attempt[] {
    return this.transaction(() => {
      const step = this.stepRow(stepId);
      const run = this.runRow(step.run_id);
      if (run.state !== 'open') throw new SluiceError('RUN_NOT_OPEN');
      const at = this.ts();
      if (step.state !== 'queued') this.transitionStep(stepId, 'queued', { acceptedAttemptId: null }, actor);
      return this.insertAttempts(this.stepRow(stepId), run, n, actor, at);
    });
  }

  /** Move an attempt along its state machine, with the fields that change with it. */
  transitionAttempt(attemptId: string, to: AttemptState, patch: AttemptPatch, actor: string): Attempt {
    return this.transaction(() => {
      const row = this.attemptRow(attemptId);
      const from = row.state as AttemptState;
      if (!attemptTransitionAllowed(from, to)) throw new TransitionRefusedError('attempt', from, to);
      const at = this.ts();
      const startedAt = patch.startedAt !== undefined ? patch.startedAt : (row.started_at ?? (to === 'preparing' || to === 'running' ? at : null));
      const endedAt = patch.endedAt !== undefined ? patch.endedAt : (row.ended_at ?? (TERMINAL_ATTEMPT_STATES.includes(to) ? at : null));
      const pick = <K extends keyof AttemptPatch>(k: K, current: AttemptPatch[K]) => (patch[k] !== undefined ? patch[k] : current);
      this.stmt(
          `UPDATE attempts SET state = ?, commit_sha = ?, exit_code = ?, failure_code = ?, summary = ?, decision_reason = ?, changed_files = ?, denied_actions = ?, started_at = ?, ended_at = ?,
             base_commit = ?, branch = ?, updated_by = ?, updated_at = ? WHERE attempt_id = ?`,
        )
        .run(
          to,
          pick('commit', row.commit_sha),
          pick('exitCode', row.exit_code),
          pick('failureCode', row.failure_code as AttemptFailureCode | null),
          pick('summary', row.summary),
          pick('decisionReason', row.decision_reason ?? null),
          pick('changedFiles', row.changed_files),
          pick('deniedActions', row.denied_actions),
          startedAt,
          endedAt,
          pick('baseCommit', row.base_commit),
          pick('branch', row.branch),
          actor,
          at,
          attemptId,
        );
      this.recordTransition('attempt', attemptId, row.run_id, from, to, actor, at);
      const data: Record<string, unknown> = { from, to };
      const after = this.attemptRow(attemptId);
      if (after.failure_code) data['failureCode'] = after.failure_code;
      if (after.exit_code !== null) data['exitCode'] = after.exit_code;
      if (after.commit_sha) data['commit'] = after.commit_sha;
      this.insertEvent({ type: 'attempt.state_changed', runId: row.run_id, stepId: row.step_id, attemptId, data }, actor, at);
      return this.getAttempt(attemptId)!;
    });
  }

  /** Move a step along its state machine. */
  transitionStep(stepId: string, to: StepState, patch: { acceptedAttemptId?: string | null }, actor: string): Step {
    return this.transaction(() => {
      const row = this.stepRow(stepId);
      const from = row.state as StepState;
      if (!stepTransitionAllowed(from, to)) throw new TransitionRefusedError('step', from, to);
      const at = this.ts();
      const accepted = patch.acceptedAttemptId !== undefined ? patch.acceptedAttemptId : row.accepted_attempt_id;
      this.stmt('UPDATE steps SET state = ?, accepted_attempt_id = ?, updated_by = ?, updated_at = ? WHERE step_id = ?').run(to, accepted, actor, at, stepId);
      this.recordTransition('step', stepId, row.run_id, from, to, actor, at);
      const data: Record<string, unknown> = { from, to };
      if (accepted) data['acceptedAttemptId'] = accepted;
      this.insertEvent({ type: 'step.state_changed', runId: row.run_id, stepId, data }, actor, at);
      return this.getStep(stepId)!;
    });
  }

  /** Complete or abort a run. */
  transitionRun(runId: string, to: RunState, actor: string, data: Record<string, unknown> = {}): Run {
    return this.transaction(() => {
      const row = this.runRow(runId);
      const from = row.state as RunState;
      if (!runTransitionAllowed(from, to)) throw new TransitionRefusedError('run', from, to);
      const at = this.ts();
      this.stmt('UPDATE runs SET state = ?, updated_by = ?, updated_at = ? WHERE run_id = ?').run(to, actor, at, runId);
      this.recordTransition('run', runId, runId, from, to, actor, at);
      this.insertEvent({ type: to === 'completed' ? 'run.closed' : 'run.aborted', runId, data: { ...data, from, to } }, actor, at);
      return this.getRun(runId)!;
    });
  }

  /** Record that the run branch now points at `commit`. */
  setRunHead(runId: string, commit: string, actor: string): Run {
    return this.transaction(() => {
      const row = this.runRow(runId);
      const at = this.ts();
      this.stmt('UPDATE runs SET head_commit = ?, updated_by = ?, updated_at = ? WHERE run_id = ?').run(commit, actor, at, runId);
      this.recordTransition('run', runId, runId, row.state, row.state, actor, at);
      this.insertEvent({ type: 'run.head_moved', runId, data: { from: row.head_commit, to: commit } }, actor, at);
      return this.getRun(runId)!;
    });
  }

  /** Append one validation result of an attempt. */
  recordValidation(input: ValidationInput, actor: string): ValidationResult {
    return this.transaction(() => {
      const attempt = this.attemptRow(input.attemptId);
      const at = this.ts();
      this.stmt(
          `INSERT INTO validation_results (attempt_id, step_id, run_id, name, argv, passed, exit_code, timed_out, duration_ms, stdout_digest, stderr_digest, actor, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.attemptId,
          attempt.step_id,
          attempt.run_id,
          input.name,
          JSON.stringify(input.argv),
          input.passed ? 1 : 0,
          input.exitCode,
          input.timedOut ? 1 : 0,
          input.durationMs,
          input.stdoutDigest,
          input.stderrDigest,
          actor,
          at,
        );
      this.insertEvent(
        { type: 'validation.recorded', runId: attempt.run_id, stepId: attempt.step_id, attemptId: input.attemptId, data: { name: input.name, passed: input.passed, exitCode: input.exitCode, timedOut: input.timedOut } },
        actor,
        at,
      );
      return { ...input, argv: [...input.argv], createdAt: at };
    });
  }

  /** Create a gate with its first evaluation (`pending` unless decided at once, e.g. a validation gate). */
  createGate(
    input: {
      runId: string;
      stepId: string;
      attemptId: string | null;
      kind: 'validation' | 'approval';
      rule: string;
      candidates: readonly string[];
      status?: GateStatus;
      reason?: string | null;
      /** Attempts that changed a `.gitattributes`: the gate's rule and event say so, for whoever decides. */
      attributesChangedBy?: readonly string[];
    },
    actor: string,
  ): Gate {
    return this.transaction(() => {
      const step = this.stepRow(input.stepId);
      if (step.run_id !== input.runId) throw new SluiceError('STEP_NOT_FOUND');
      const run = this.runRow(input.runId);
      const at = this.ts();
      const gateId = this.id('gate');
      const flagged = input.attributesChangedBy ?? [];
      const rule = flagged.length > 0 ? `${input.rule}; warning: .gitattributes changed by ${flagged.join(', ')}` : input.rule;
      this.stmt('INSERT INTO gates (gate_id, run_id, step_id, attempt_id, kind, rule, candidates, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(gateId, input.runId, input.stepId, input.attemptId, input.kind, rule, JSON.stringify(input.candidates), actor, at);
      const status = input.status ?? 'pending';
      this.stmt('INSERT INTO gate_evaluations (gate_id, status, accepted_attempt_id, reason, actor, at) VALUES (?, ?, NULL, ?, ?, ?)').run(gateId, status, input.reason ?? null, actor, at);
      const data: Record<string, unknown> = { gateId, kind: input.kind, status, rule, candidates: [...input.candidates], baseRef: run.base_ref, baseCommit: run.base_commit };
      if (flagged.length > 0) data['attributesChangedBy'] = [...flagged];
      this.insertEvent(
        { type: 'gate.created', runId: input.runId, stepId: input.stepId, attemptId: input.attemptId, data },
        actor,
        at,
      );
      return this.getGate(gateId)!;
    });
  }

  /** Append a decision to a pending gate; a decided gate refuses with `GATE_ALREADY_DECIDED`. */
  decideGate(gateId: string, decision: { status: Exclude<GateStatus, 'pending'>; acceptedAttemptId?: string | null; reason?: string | null }, actor: string): Gate {
    return this.transaction(() => {
      const gate = this.getGate(gateId);
      if (!gate) throw new SluiceError('GATE_NOT_FOUND');
      if (gate.status !== 'pending') throw new SluiceError('GATE_ALREADY_DECIDED');
      const at = this.ts();
      this.stmt('INSERT INTO gate_evaluations (gate_id, status, accepted_attempt_id, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(gateId, decision.status, decision.acceptedAttemptId ?? null, decision.reason ?? null, actor, at);
      this.insertEvent(
        { type: 'gate.decided', runId: gate.runId, stepId: gate.stepId, attemptId: gate.attemptId, data: { gateId, status: decision.status, acceptedAttemptId: decision.acceptedAttemptId ?? null } },
        actor,
        at,
      );
      return this.getGate(gateId)!;
    });
  }

  /** Tie a stored blob to a run, step or attempt. */
  addArtifactRef(input: Omit<ArtifactRef, 'artifactId' | 'createdAt'>, actor: string): ArtifactRef {
    return this.transaction(() => {
      this.runRow(input.runId);
      const at = this.ts();
      const artifactId = this.id('artifact');
      this.stmt(
          'INSERT INTO artifact_refs (artifact_id, digest, size, media_type, kind, name, run_id, step_id, attempt_id, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(artifactId, input.digest, input.size, input.mediaType, input.kind, input.name, input.runId, input.stepId, input.attemptId, actor, at);
      this.insertEvent(
        { type: 'artifact.recorded', runId: input.runId, stepId: input.stepId, attemptId: input.attemptId, data: { artifactId, digest: input.digest, kind: input.kind, name: input.name, size: input.size } },
        actor,
        at,
      );
      return { ...input, artifactId, createdAt: at };
    });
  }

  /** Append one event. */
  appendEvent(e: EventInput, actor: string): Event {
    return this.transaction(() => this.insertEvent(e, actor, this.ts()));
  }

  /** Append many events in one transaction (group commit). */
  appendEvents(events: readonly EventInput[], actor: string): Event[] {
    return this.transaction(() => {
      const at = this.ts();
      return events.map((e) => this.insertEvent(e, actor, at));
    });
  }

  /**
   * Group commit: queue an event; every event queued in the same turn of the event loop is written in one
   * transaction (up to 1 000), which is how high-rate producers (output lines, progress) should append.
   */
  queueEvent(e: EventInput, actor: string): Promise<Event> {
    // Refused before queueing, so one bad event cannot fail the batch it would have joined.
    if (!EVENT_TYPE_PATTERN.test(e.type)) return Promise.reject(new Error(`event type ${JSON.stringify(e.type)} must be dotted lowercase, e.g. attempt.state_changed`));
    return new Promise((resolve, reject) => {
      this.queued.push({ e, actor, resolve, reject });
      if (this.queued.length === 1) setImmediate(() => this.flushQueued());
    });
  }

  /** Write every queued event now. */
  flushQueued(): void {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0, 1000);
      try {
        const events = this.transaction(() => {
          const at = this.ts();
          return batch.map((q) => this.insertEvent(q.e, q.actor, at));
        });
        batch.forEach((q, i) => q.resolve(events[i]!));
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
  }

  /** Append one hash-chained audit row; returns its sequence number. */
  audit(input: AuditInput): number {
    return this.transaction(() => {
      const last = this.stmt('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
      const counter = (this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get() as { seq: number } | undefined)?.seq ?? 0;
      const fields = {
        seq: Math.max(counter, last?.seq ?? 0) + 1,
        at: this.ts(),
        actor: input.actor,
        action: input.action,
        target: input.target ?? null,
        outcome: input.outcome,
        details: JSON.stringify(input.details ?? {}),
        prev_hash: last?.hash ?? GENESIS_HASH,
      };
      const hash = auditRowHash(fields);
      this.stmt('INSERT INTO audit (seq, at, actor, action, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(fields.seq, fields.at, fields.actor, fields.action, fields.target, fields.outcome, fields.details, fields.prev_hash, hash);
      return fields.seq;
    });
  }

  /** Close the database and wake every waiter. */
  close(): void {
    if (this.db.open) this.flushQueued();
    this.bus.close();
    if (this.db.open) this.db.close();
  }
}
