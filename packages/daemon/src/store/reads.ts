import type Database from 'better-sqlite3';
import { StatementCache } from '@sluice/node-kit';
import type { AuditFields } from './audit-chain.js';
import type { ArtifactRef, Attempt, AttemptDetail, AttemptState, Event, Gate, Run, RunDetail, RunState, Step, StepDetail, ValidationResult } from '@sluice/shared-protocol';
import {
  toArtifact,
  toAttempt,
  toEvent,
  toGate,
  toRun,
  toStep,
  toValidation,
  type ArtifactRow,
  type AttemptRow,
  type EventRow,
  type GateRow,
  type RunRow,
  type StepRow,
  type ValidationRow,
} from './rows.js';

const GATE_SELECT = `
SELECT g.gate_id, g.run_id, g.step_id, g.attempt_id, g.kind, g.rule, g.candidates, g.actor, g.created_at,
       e.status, e.accepted_attempt_id, e.reason, r.base_ref, r.base_commit,
       CASE WHEN e.status = 'pending' THEN NULL ELSE e.actor END AS decided_by,
       CASE WHEN e.status = 'pending' THEN NULL ELSE e.at END AS decided_at
FROM gates g JOIN gate_evaluations e ON e.id = (SELECT max(id) FROM gate_evaluations WHERE gate_id = g.gate_id)
JOIN runs r ON r.run_id = g.run_id`;

/** Filters for `listRuns`. `workspaceIds` limits to visible workspaces (null: all). */
/** A filter of the audit log. */
export interface AuditQuery {
  before?: number | undefined;
  actionPrefix?: string | undefined;
  actor?: string | undefined;
  outcome?: 'ok' | 'not_ok' | undefined;
  limit: number;
}

/** One audit row as read back, its details parsed. */
export type AuditRow = Omit<AuditFields, 'details' | 'prev_hash'> & { details: Record<string, unknown> };

export interface ListRunsQuery {
  workspaceIds: readonly string[] | null;
  workspaceId?: string | undefined;
  state?: RunState | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Read side of the ledger, shaped as the shared-protocol models. */
export class LedgerReader {
  private readonly statements: StatementCache;

  constructor(readonly db: Database.Database) {
    this.statements = new StatementCache(db);
  }

  /** A prepared statement, cached by its SQL text. */
  protected stmt(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  getRun(runId: string): Run | null {
    const row = this.stmt('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  getRunDetail(runId: string): RunDetail | null {
    const run = this.getRun(runId);
    if (!run) return null;
    const steps = (this.stmt('SELECT * FROM steps WHERE run_id = ? ORDER BY seq').all(runId) as StepRow[]).map((s) => this.stepFromRow(s));
    return { ...run, steps };
  }

  listRuns(q: ListRunsQuery): { runs: Run[]; nextCursor: string | null } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.workspaceIds) {
      if (q.workspaceIds.length === 0) return { runs: [], nextCursor: null };
      where.push(`workspace_id IN (${q.workspaceIds.map(() => '?').join(',')})`);
      args.push(...q.workspaceIds);
    }
    if (q.workspaceId) {
      where.push('workspace_id = ?');
      args.push(q.workspaceId);
    }
    if (q.state) {
      where.push('state = ?');
      args.push(q.state);
    }
    if (q.cursor) {
      where.push('run_id < ?');
      args.push(q.cursor);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY run_id DESC LIMIT ?`;
    const rows = this.stmt(sql).all(...args, q.limit + 1) as RunRow[];
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit).map(toRun);
    return { runs: page, nextCursor: more ? (page.at(-1)?.runId ?? null) : null };
  }

  private stepFromRow(row: StepRow): Step {
    // The latest attempt of each parallel slot.
    const rows = this.stmt('SELECT a.* FROM attempts a WHERE a.step_id = ? AND a.number = (SELECT max(number) FROM attempts b WHERE b.step_id = a.step_id AND b.slot = a.slot) ORDER BY a.slot')
      .all(row.step_id) as AttemptRow[];
    const step = toStep(row, rows.map(toAttempt));
    if (row.accepted_attempt_id === null) return step;
    const accepted = this.stmt('SELECT changed_files FROM attempts WHERE attempt_id = ?').get(row.accepted_attempt_id) as { changed_files: number | null } | undefined;
    return { ...step, noChanges: accepted?.changed_files === 0 };
  }

  getStepRow(stepId: string): StepRow | null {
    return (this.stmt('SELECT * FROM steps WHERE step_id = ?').get(stepId) as StepRow | undefined) ?? null;
  }

  getStep(stepId: string): Step | null {
    const row = this.getStepRow(stepId);
    return row ? this.stepFromRow(row) : null;
  }

  getStepDetail(stepId: string): StepDetail | null {
    const step = this.getStep(stepId);
    if (!step) return null;
    const gates = (this.stmt(`${GATE_SELECT} WHERE g.step_id = ? ORDER BY g.gate_id`).all(stepId) as GateRow[]).map(toGate);
    const validationResults = (this.stmt('SELECT * FROM validation_results WHERE step_id = ? ORDER BY id').all(stepId) as ValidationRow[]).map(toValidation);
    return { ...step, gates, validationResults };
  }

  getAttempt(attemptId: string): Attempt | null {
    const row = this.stmt('SELECT * FROM attempts WHERE attempt_id = ?').get(attemptId) as AttemptRow | undefined;
    return row ? toAttempt(row) : null;
  }

  getAttemptDetail(attemptId: string): AttemptDetail | null {
    const attempt = this.getAttempt(attemptId);
    if (!attempt) return null;
    const validationResults = (this.stmt('SELECT * FROM validation_results WHERE attempt_id = ? ORDER BY id').all(attemptId) as ValidationRow[]).map(toValidation);
    const artifacts = (this.stmt('SELECT * FROM artifact_refs WHERE attempt_id = ? ORDER BY artifact_id').all(attemptId) as ArtifactRow[]).map(toArtifact);
    return { ...attempt, validationResults, artifacts };
  }

  /** Every attempt of a step, oldest first. */
  listAttempts(stepId: string): Attempt[] {
    return (this.stmt('SELECT * FROM attempts WHERE step_id = ? ORDER BY number').all(stepId) as AttemptRow[]).map(toAttempt);
  }

  /** Attempts in any of these states, oldest first (crash recovery, cancellation). */
  attemptsInStates(states: readonly AttemptState[], runId?: string): Attempt[] {
    if (states.length === 0) return [];
    const marks = states.map(() => '?').join(',');
    const sql = `SELECT * FROM attempts WHERE state IN (${marks}) ${runId ? 'AND run_id = ?' : ''} ORDER BY created_at, attempt_id`;
    const args: unknown[] = runId ? [...states, runId] : [...states];
    return (this.stmt(sql).all(...args) as AttemptRow[]).map(toAttempt);
  }

  /**
   * Queued attempts that may start now: of open runs, in step order (a step waits while an earlier step of its
   * run is not finished), oldest first.
   */
  nextQueuedAttempts(limit = 100): Attempt[] {
    const rows = this.stmt(
        `SELECT a.* FROM attempts a JOIN steps s ON s.step_id = a.step_id JOIN runs r ON r.run_id = a.run_id
         WHERE a.state = 'queued' AND r.state = 'open'
           AND NOT EXISTS (SELECT 1 FROM steps p WHERE p.run_id = s.run_id AND p.seq < s.seq AND p.state IN ('queued','running','awaiting_approval'))
         ORDER BY a.created_at, a.attempt_id LIMIT ?`,
      )
      .all(limit) as AttemptRow[];
    return rows.map(toAttempt);
  }

  getGate(gateId: string): Gate | null {
    const row = this.stmt(`${GATE_SELECT} WHERE g.gate_id = ?`).get(gateId) as GateRow | undefined;
    return row ? toGate(row) : null;
  }

  listGates(runId: string, status: 'pending' | 'decided' | 'all' = 'all'): Gate[] {
    const filter = status === 'pending' ? " AND e.status = 'pending'" : status === 'decided' ? " AND e.status <> 'pending'" : '';
    return (this.stmt(`${GATE_SELECT} WHERE g.run_id = ?${filter} ORDER BY g.gate_id`).all(runId) as GateRow[]).map(toGate);
  }

  listValidations(attemptId: string): ValidationResult[] {
    return (this.stmt('SELECT * FROM validation_results WHERE attempt_id = ? ORDER BY id').all(attemptId) as ValidationRow[]).map(toValidation);
  }

  listArtifacts(q: { runId: string; stepId?: string | undefined; attemptId?: string | undefined }): ArtifactRef[] {
    let sql = 'SELECT * FROM artifact_refs WHERE run_id = ?';
    const args: unknown[] = [q.runId];
    if (q.stepId) {
      sql += ' AND step_id = ?';
      args.push(q.stepId);
    }
    if (q.attemptId) {
      sql += ' AND attempt_id = ?';
      args.push(q.attemptId);
    }
    return (this.stmt(`${sql} ORDER BY artifact_id`).all(...args) as ArtifactRow[]).map(toArtifact);
  }

  /** The newest ref of a digest within a run, or null when the run never recorded it. */
  findArtifact(runId: string, digest: string): ArtifactRef | null {
    const row = this.stmt('SELECT * FROM artifact_refs WHERE run_id = ? AND digest = ? ORDER BY artifact_id DESC LIMIT 1').get(runId, digest) as ArtifactRow | undefined;
    return row ? toArtifact(row) : null;
  }

  /** One artifact ref by its id. */
  getArtifact(artifactId: string): ArtifactRef | null {
    const row = this.stmt('SELECT * FROM artifact_refs WHERE artifact_id = ?').get(artifactId) as ArtifactRow | undefined;
    return row ? toArtifact(row) : null;
  }

  /** Any ref of a digest (operator reads). */
  findArtifactAnyRun(digest: string): ArtifactRef | null {
    const row = this.stmt('SELECT * FROM artifact_refs WHERE digest = ? ORDER BY artifact_id DESC LIMIT 1').get(digest) as ArtifactRow | undefined;
    return row ? toArtifact(row) : null;
  }

  /** Those of `attemptIds` (of one run) whose capture was flagged for a changed `.gitattributes`. */
  attemptsWithChangedAttributes(runId: string, attemptIds: readonly string[]): string[] {
    const rows = this.stmt("SELECT DISTINCT attempt_id FROM events WHERE run_id = ? AND type = 'attempt.flagged'").all(runId) as { attempt_id: string }[];
    const flagged = new Set(rows.map((r) => r.attempt_id));
    return attemptIds.filter((id) => flagged.has(id));
  }

  /**
   * Digests every ref of which belongs to an attempt that ended before `cutoff` (ISO time): what the retention
   * policy may delete. A blob shared with a newer or a live attempt, or with a run-level ref, is kept.
   */
  prunableDigests(cutoff: string): { digest: string; size: number; refs: number }[] {
    return this.stmt(
      `SELECT r.digest AS digest, max(r.size) AS size, count(*) AS refs FROM artifact_refs r LEFT JOIN attempts a ON a.attempt_id = r.attempt_id
       GROUP BY r.digest HAVING sum(CASE WHEN a.ended_at IS NOT NULL AND a.ended_at < ? THEN 0 ELSE 1 END) = 0 ORDER BY r.digest`,
    ).all(cutoff) as { digest: string; size: number; refs: number }[];
  }

  /** Attempts (with their run's workspace) that ended before `cutoff`: their worktrees and branches may go. */
  attemptsEndedBefore(cutoff: string): { attemptId: string; workspaceId: string; branch: string }[] {
    return this.stmt(
      'SELECT a.attempt_id AS attemptId, r.workspace_id AS workspaceId, a.branch AS branch FROM attempts a JOIN runs r ON r.run_id = a.run_id WHERE a.ended_at IS NOT NULL AND a.ended_at < ? ORDER BY a.attempt_id',
    ).all(cutoff) as { attemptId: string; workspaceId: string; branch: string }[];
  }

  /** Events after a cursor, of one run or of all runs. */
  listEvents(q: { runId?: string | undefined; after?: number | undefined; limit: number }): Event[] {
    const after = q.after ?? 0;
    const rows = q.runId
      ? (this.stmt('SELECT * FROM events WHERE run_id = ? AND cursor > ? ORDER BY cursor LIMIT ?').all(q.runId, after, q.limit) as EventRow[])
      : (this.stmt('SELECT * FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?').all(after, q.limit) as EventRow[]);
    return rows.map(toEvent);
  }

  /**
   * One page of a run's events for `events.list`, where a cursor is an event's position in its run (1, 2, ...)
   * rather than in the global log, so a caller learns nothing of other runs' activity. The page stops at
   * `limit` events or before `maxBytes` of serialized events (at least one event). `null` when `after` is past
   * the run's last event: a cursor this run never gave out.
   */
  listRunEvents(q: { runId: string; after: number; limit: number; maxBytes: number }): { events: Event[]; nextCursor: number } | null {
    const total = (this.stmt('SELECT count(*) AS n FROM events WHERE run_id = ?').get(q.runId) as { n: number }).n;
    if (q.after > total) return null;
    const from = q.after === 0 ? 0 : (this.stmt('SELECT cursor FROM events WHERE run_id = ? ORDER BY cursor LIMIT 1 OFFSET ?').get(q.runId, q.after - 1) as { cursor: number }).cursor;
    const rows = this.stmt('SELECT * FROM events WHERE run_id = ? AND cursor > ? ORDER BY cursor LIMIT ?').all(q.runId, from, q.limit) as EventRow[];
    const events: Event[] = [];
    let bytes = 0;
    for (const row of rows) {
      const event = { ...toEvent(row), cursor: q.after + events.length + 1 };
      bytes += Buffer.byteLength(JSON.stringify(event)) + 1;
      if (events.length > 0 && bytes > q.maxBytes) break;
      events.push(event);
    }
    return { events, nextCursor: q.after + events.length };
  }

  /** Audit rows, newest first, before `before` (a seq): by action prefix, actor and whether the outcome was `ok`. */
  listAudit(q: AuditQuery): AuditRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const when = (clause: string, ...values: (string | number)[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (q.before !== undefined) when('seq < ?', q.before);
    if (q.actionPrefix !== undefined) when('substr(action, 1, ?) = ?', q.actionPrefix.length, q.actionPrefix);
    if (q.actor !== undefined) when('actor = ?', q.actor);
    if (q.outcome === 'ok') when("outcome = 'ok'");
    if (q.outcome === 'not_ok') when("outcome <> 'ok'");
    const sql = `SELECT seq, at, actor, action, target, outcome, details FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as Omit<AuditFields, 'prev_hash'>[];
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
  }

  /** The details (JSON text) of the newest audit row of an action, or null. */
  lastAuditDetails(action: string): string | null {
    const row = this.stmt('SELECT details FROM audit WHERE action = ? ORDER BY seq DESC LIMIT 1').get(action) as { details: string } | undefined;
    return row?.details ?? null;
  }

  /** The newest cursor (0 when there are no events). */
  lastCursor(): number {
    return (this.stmt('SELECT coalesce(max(cursor), 0) AS c FROM events').get() as { c: number }).c;
  }

  /** Counts for `sluice status`. */
  counts(): { runs: Record<string, number>; attempts: Record<string, number>; events: number; auditRows: number } {
    const group = (table: string) =>
      Object.fromEntries((this.stmt(`SELECT state, count(*) AS n FROM ${table} GROUP BY state`).all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));
    return {
      runs: group('runs'),
      attempts: group('attempts'),
      events: this.lastCursor(),
      auditRows: (this.stmt('SELECT count(*) AS n FROM audit').get() as { n: number }).n,
    };
  }
}
