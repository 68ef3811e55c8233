import type { ArtifactRef, Attempt, AttemptState, Event, Gate, Run, RunState, Step, StepState, ValidationResult } from '@sluice/shared-protocol';

/** Projection and ledger rows as SQLite returns them. */
export interface RunRow {
  run_id: string;
  workspace_id: string;
  title: string;
  state: string;
  base_ref: string;
  base_commit: string;
  branch: string;
  head_commit: string;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}
export interface StepRow {
  step_id: string;
  run_id: string;
  seq: number;
  executor: string;
  task: string;
  validations: string;
  approval_required: number;
  timeout_ms: number;
  attempts_requested: number;
  state: string;
  accepted_attempt_id: string | null;
  idempotency_key: string | null;
  request_hash: string;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}
export interface AttemptRow {
  attempt_id: string;
  step_id: string;
  run_id: string;
  number: number;
  slot: number;
  state: string;
  executor: string;
  branch: string;
  base_commit: string;
  commit_sha: string | null;
  exit_code: number | null;
  failure_code: string | null;
  summary: string | null;
  /** Absent in a ledger not yet migrated (rows read while opening one). */
  decision_reason?: string | null;
  changed_files: number | null;
  denied_actions: number;
  started_at: string | null;
  ended_at: string | null;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}
export interface EventRow {
  cursor: number;
  type: string;
  run_id: string;
  step_id: string | null;
  attempt_id: string | null;
  actor: string;
  at: string;
  data: string;
}
export interface GateRow {
  gate_id: string;
  run_id: string;
  step_id: string;
  attempt_id: string | null;
  kind: string;
  rule: string;
  candidates: string;
  actor: string;
  created_at: string;
  status: string;
  accepted_attempt_id: string | null;
  reason: string | null;
  base_ref: string;
  base_commit: string;
  decided_by: string | null;
  decided_at: string | null;
}
export interface ValidationRow {
  id: number;
  attempt_id: string;
  step_id: string;
  run_id: string;
  name: string;
  argv: string;
  passed: number;
  exit_code: number | null;
  timed_out: number;
  duration_ms: number;
  stdout_digest: string | null;
  stderr_digest: string | null;
  actor: string;
  created_at: string;
}
export interface ArtifactRow {
  artifact_id: string;
  digest: string;
  size: number;
  media_type: string;
  kind: string;
  name: string;
  run_id: string;
  step_id: string | null;
  attempt_id: string | null;
  actor: string;
  created_at: string;
}

export function toRun(r: RunRow): Run {
  return {
    runId: r.run_id,
    workspaceId: r.workspace_id,
    title: r.title,
    state: r.state as RunState,
    baseRef: r.base_ref,
    baseCommit: r.base_commit,
    branch: r.branch,
    headCommit: r.head_commit,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toAttempt(r: AttemptRow): Attempt {
  return {
    attemptId: r.attempt_id,
    stepId: r.step_id,
    runId: r.run_id,
    number: r.number,
    state: r.state as AttemptState,
    executor: r.executor,
    branch: r.branch,
    baseCommit: r.base_commit,
    commit: r.commit_sha,
    exitCode: r.exit_code,
    failureCode: r.failure_code,
    summary: r.summary,
    decisionReason: r.decision_reason ?? null,
    changedFiles: r.changed_files,
    deniedActions: r.denied_actions,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toStep(r: StepRow, attempts: Attempt[]): Step {
  return {
    stepId: r.step_id,
    runId: r.run_id,
    seq: r.seq,
    executor: r.executor,
    task: r.task,
    validations: JSON.parse(r.validations) as string[],
    approvalRequired: r.approval_required === 1,
    timeoutMs: r.timeout_ms,
    attemptsRequested: r.attempts_requested,
    state: r.state as StepState,
    acceptedAttemptId: r.accepted_attempt_id,
    idempotencyKey: r.idempotency_key,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    attempts,
  };
}

export function toEvent(r: EventRow): Event {
  return {
    cursor: r.cursor,
    type: r.type,
    runId: r.run_id,
    stepId: r.step_id,
    attemptId: r.attempt_id,
    actor: r.actor,
    at: r.at,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

export function toGate(r: GateRow): Gate {
  return {
    gateId: r.gate_id,
    runId: r.run_id,
    stepId: r.step_id,
    attemptId: r.attempt_id,
    kind: r.kind as Gate['kind'],
    status: r.status as Gate['status'],
    rule: r.rule,
    candidates: JSON.parse(r.candidates) as string[],
    acceptedAttemptId: r.accepted_attempt_id,
    baseRef: r.base_ref,
    baseCommit: r.base_commit,
    decidedBy: r.decided_by,
    reason: r.reason,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
  };
}

export function toValidation(r: ValidationRow): ValidationResult {
  return {
    attemptId: r.attempt_id,
    name: r.name,
    argv: JSON.parse(r.argv) as string[],
    passed: r.passed === 1,
    exitCode: r.exit_code,
    timedOut: r.timed_out === 1,
    durationMs: r.duration_ms,
    stdoutDigest: r.stdout_digest,
    stderrDigest: r.stderr_digest,
    createdAt: r.created_at,
  };
}

export function toArtifact(r: ArtifactRow): ArtifactRef {
  return {
    artifactId: r.artifact_id,
    digest: r.digest,
    size: r.size,
    mediaType: r.media_type,
    kind: r.kind as ArtifactRef['kind'],
    name: r.name,
    runId: r.run_id,
    stepId: r.step_id,
    attemptId: r.attempt_id,
    createdAt: r.created_at,
  };
}
