import type { Gate, Run, StepState } from '@sluice/shared-protocol';

/** `GET /api/v1/console/overview`. */
export interface Overview {
  runs: (Run & { steps: { stepId: string; seq: number; state: StepState; executor: string }[]; changedFiles: number; pendingGates: number })[];
  approvals: (Gate & { runTitle: string; workspaceId: string })[];
}

/** One file page of `GET /api/v1/console/diff`. */
export interface DiffFilePage {
  path: string;
  oldPath: string | null;
  status: 'added' | 'deleted' | 'modified' | 'renamed' | 'binary';
  additions: number;
  deletions: number;
  lines: string[];
  totalLines: number;
  offset: number;
  nextOffset: number | null;
}

export interface DiffAnswer {
  base: string;
  head: string;
  files: DiffFilePage[];
}

export interface ConsoleSessionRow {
  sessionId: string;
  actor: string;
  userAgent: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
  revokedAt: string | null;
}
