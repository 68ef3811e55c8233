import { appendOnlyTriggers, type Migration } from '@sluice/node-kit';

export type { Migration };

const LEDGER_TABLES = ['transitions', 'events', 'artifact_refs', 'validation_results', 'gates', 'gate_evaluations', 'audit'] as const;
const SECRET_TABLES = ['secret_scans', 'secret_releases'] as const;

/** Ledger tables: rows are written once and never changed. */
export const APPEND_ONLY_TABLES: readonly string[] = [...LEDGER_TABLES, ...SECRET_TABLES];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger',
    up: `
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, title TEXT NOT NULL, state TEXT NOT NULL,
  base_ref TEXT NOT NULL, base_commit TEXT NOT NULL, branch TEXT NOT NULL, head_commit TEXT NOT NULL,
  created_by TEXT NOT NULL, updated_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX runs_workspace ON runs(workspace_id, run_id);
CREATE TABLE steps (
  step_id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id), seq INTEGER NOT NULL, executor TEXT NOT NULL,
  task TEXT NOT NULL, validations TEXT NOT NULL, approval_required INTEGER NOT NULL, timeout_ms INTEGER NOT NULL,
  attempts_requested INTEGER NOT NULL, state TEXT NOT NULL, accepted_attempt_id TEXT, idempotency_key TEXT,
  request_hash TEXT NOT NULL, created_by TEXT NOT NULL, updated_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (run_id, seq)
) STRICT;
CREATE UNIQUE INDEX steps_idempotency ON steps(run_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE attempts (
  attempt_id TEXT PRIMARY KEY, step_id TEXT NOT NULL REFERENCES steps(step_id), run_id TEXT NOT NULL, number INTEGER NOT NULL,
  slot INTEGER NOT NULL, state TEXT NOT NULL, executor TEXT NOT NULL, branch TEXT NOT NULL, base_commit TEXT NOT NULL,
  commit_sha TEXT, exit_code INTEGER, failure_code TEXT, summary TEXT, changed_files INTEGER,
  started_at TEXT, ended_at TEXT, created_by TEXT NOT NULL, updated_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (step_id, number)
) STRICT;
CREATE INDEX attempts_state ON attempts(state, created_at);
CREATE INDEX attempts_step ON attempts(step_id, number);
CREATE TABLE transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL, entity_id TEXT NOT NULL, run_id TEXT NOT NULL,
  from_state TEXT, to_state TEXT NOT NULL, snapshot TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL
) STRICT;
CREATE INDEX transitions_entity ON transitions(entity, entity_id, seq);
CREATE TABLE events (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT, attempt_id TEXT,
  actor TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL
) STRICT;
CREATE INDEX events_run ON events(run_id, cursor);
CREATE TABLE artifact_refs (
  artifact_id TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER NOT NULL, media_type TEXT NOT NULL, kind TEXT NOT NULL,
  name TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT, attempt_id TEXT, actor TEXT NOT NULL, created_at TEXT NOT NULL
) STRICT;
CREATE INDEX artifact_refs_run ON artifact_refs(run_id, digest);
CREATE TABLE validation_results (
  id INTEGER PRIMARY KEY AUTOINCREMENT, attempt_id TEXT NOT NULL, step_id TEXT NOT NULL, run_id TEXT NOT NULL, name TEXT NOT NULL,
  argv TEXT NOT NULL, passed INTEGER NOT NULL, exit_code INTEGER, timed_out INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
  stdout_digest TEXT, stderr_digest TEXT, actor TEXT NOT NULL, created_at TEXT NOT NULL
) STRICT;
CREATE INDEX validation_results_attempt ON validation_results(attempt_id, id);
CREATE TABLE gates (
  gate_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, step_id TEXT NOT NULL, attempt_id TEXT, kind TEXT NOT NULL, rule TEXT NOT NULL,
  candidates TEXT NOT NULL, actor TEXT NOT NULL, created_at TEXT NOT NULL
) STRICT;
CREATE INDEX gates_run ON gates(run_id, gate_id);
CREATE INDEX gates_step ON gates(step_id, gate_id);
CREATE TABLE gate_evaluations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, gate_id TEXT NOT NULL REFERENCES gates(gate_id), status TEXT NOT NULL,
  accepted_attempt_id TEXT, reason TEXT, actor TEXT NOT NULL, at TEXT NOT NULL
) STRICT;
CREATE INDEX gate_evaluations_gate ON gate_evaluations(gate_id, id);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT,
  outcome TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
) STRICT;
${LEDGER_TABLES.map(appendOnlyTriggers).join('\n')}
`,
  },
  {
    version: 2,
    name: 'secret scans',
    // A scan row per artifact (clean ones too, rules '[]', so an unscanned artifact is told apart), and one per
    // event or summary that matched; a release lifts the findings of one subject for remote reads and approvals.
    up: `
CREATE TABLE secret_scans (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, attempt_id TEXT, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL,
  rules TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL
) STRICT;
CREATE INDEX secret_scans_subject ON secret_scans(subject_kind, subject_id);
CREATE INDEX secret_scans_attempt ON secret_scans(attempt_id);
CREATE TABLE secret_releases (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, attempt_id TEXT, subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL,
  reason TEXT, actor TEXT NOT NULL, at TEXT NOT NULL
) STRICT;
CREATE INDEX secret_releases_subject ON secret_releases(subject_kind, subject_id);
${SECRET_TABLES.map(appendOnlyTriggers).join('\n')}
`,
  },
  {
    version: 3,
    name: 'attempt denied actions',
    // How many actions the agent's CLI refused under the executor's policy (the attempt.denied events hold them).
    up: 'ALTER TABLE attempts ADD COLUMN denied_actions INTEGER NOT NULL DEFAULT 0;',
  },
  {
    version: 4,
    name: 'attempt-decision-reason',
    up: `ALTER TABLE attempts ADD COLUMN decision_reason TEXT;`,
  },
  {
    version: 5,
    name: 'console sessions',
    // Not a ledger table: a session is revoked and touched in place. Only hashes of its cookie and secret are kept.
    up: `
CREATE TABLE console_sessions (
  session_id TEXT PRIMARY KEY, cookie_sha256 TEXT NOT NULL UNIQUE, secret_sha256 TEXT NOT NULL, actor TEXT NOT NULL,
  user_agent TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, revoked_at TEXT
) STRICT;
`,
  },
];
