import type { ConnectorReport } from './connector-wire.js';
import type { Gate, Run, StepState, WorkspaceSummary } from './model.js';

/**
 * What the daemon's operator console routes (`/api/v1/console/*`, `/ui/api/session`) answer: types only, shared by
 * the daemon that builds them and the page that shows them. Local to the machine, never relayed.
 */

/** A console session, as listed (its cookie and secret are never shown again after sign-in). */
export interface ConsoleSession {
  sessionId: string;
  actor: string;
  userAgent: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
  revokedAt: string | null;
}

/** One file of a unified diff. */
export interface DiffFile {
  path: string;
  oldPath: string | null;
  status: 'added' | 'deleted' | 'modified' | 'renamed' | 'binary';
  additions: number;
  deletions: number;
  /** Hunk lines (`@@`, ` `, `+`, `-`, `\`), without the file header. */
  lines: string[];
}

/** A file with one page of its lines; `nextOffset` is null on the last page. */
export interface DiffFilePage extends DiffFile {
  totalLines: number;
  offset: number;
  nextOffset: number | null;
}

/** `GET /api/v1/console/diff`. */
export interface ConsoleDiff {
  base: string;
  head: string;
  files: DiffFilePage[];
}

/** An executor's preflight, run on demand. */
export interface ExecutorStatus {
  name: string;
  adapter: string;
  ok: boolean;
  binaryPath: string | null;
  version: string | null;
  /** The failure code an attempt would fail with now (`EXECUTOR_NOT_FOUND`, `EXECUTOR_TOO_OLD`, …). */
  code: string | null;
  message: string | null;
}

/** A run as the runs list shows it. */
export interface RunSummary extends Run {
  steps: { stepId: string; seq: number; state: StepState; executor: string }[];
  /** Files changed by the run's accepted attempts. */
  changedFiles: number;
  pendingGates: number;
}

/** `GET /api/v1/console/overview`. */
export interface ConsoleOverview {
  runs: RunSummary[];
  /** Every approval gate waiting on an open run, oldest first. */
  approvals: (Gate & { runTitle: string; workspaceId: string })[];
}

/** `GET /api/v1/console/audit`: rows newest first, and the whole chain's verification. */
export interface ConsoleAudit {
  rows: { seq: number; at: string; actor: string; action: string; target: string | null; outcome: string; details: Record<string, unknown> }[];
  chain: { ok: boolean; rows: number; problems: { seq: number; problem: string; reason: string }[] };
}

/** `GET /api/v1/console/workspaces`: each workspace with who shares it and its executors' preflight. */
export interface ConsoleWorkspaces {
  workspaces: (WorkspaceSummary & { sharedBy: string[]; executorStatus: ExecutorStatus[] })[];
  connectors: (ConnectorReport & { receivedAt: string })[];
}
