import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { AttemptId, RunId, SluiceError, shareReaches, zodDetails, type ConsoleAudit, type ConsoleOverview, type ConsoleWorkspaces, type Run, type RunSummary } from '@sluice/shared-protocol';
import type { ConfigHolder } from '../../config/config-holder.js';
import { runGit } from '../../git/git-command.js';
import { executorStatuses } from '../../service/executor-status.js';
import type { WorkspaceService } from '../../service/workspace-service.js';
import { verifyAuditChain, type Store } from '../../store/index.js';
import { callCtx, requireOperator } from '../guard.js';
import { diffPage, parseUnifiedDiff } from './diff-view.js';

const AuditQuery = z.strictObject({
  before: z.coerce.number().int().min(1).optional(),
  action: z.string().min(1).max(100).optional(),
  actor: z.string().min(1).max(300).optional(),
  outcome: z.enum(['ok', 'not_ok']).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
const OverviewQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).optional() });
const DiffQuery = z
  .strictObject({ runId: RunId.optional(), attemptId: AttemptId.optional(), path: z.string().min(1).max(4096).optional(), offset: z.coerce.number().int().min(0).optional() })
  .refine((q) => (q.runId === undefined) !== (q.attemptId === undefined), { message: 'Give exactly one of runId and attemptId.' });

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(r.error));
  return r.data;
}

/** A run with what the runs list shows of it. */
function summarize(store: Store, run: Run): RunSummary {
  const detail = store.getRunDetail(run.runId)!;
  const accepted = detail.steps.flatMap((s) => s.attempts.filter((a) => a.attemptId === s.acceptedAttemptId));
  return {
    ...run,
    steps: detail.steps.map((s) => ({ stepId: s.stepId, seq: s.seq, state: s.state, executor: s.executor })),
    changedFiles: accepted.reduce((n, a) => n + (a.changedFiles ?? 0), 0),
    pendingGates: store.listGates(run.runId, 'pending').length,
  };
}

/** The approval gates waiting for a decision on open runs, oldest first. */
function pendingApprovals(store: Store): ConsoleOverview['approvals'] {
  const { runs } = store.listRuns({ workspaceIds: null, state: 'open', limit: 1000 });
  return runs
    .flatMap((run) => store.listGates(run.runId, 'pending').filter((g) => g.kind === 'approval').map((g) => ({ ...g, runTitle: run.title, workspaceId: run.workspaceId })))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Read models the console needs that no verb gives in one call: runs with their step summaries, every pending
 * approval, and a diff between two commits of a run or an attempt, parsed and paged. They read the ledger and git;
 * decisions go through the verb routes.
 */
export function registerConsoleReads(app: FastifyInstance, deps: { store: Store; config: ConfigHolder; workspaces: WorkspaceService; connectors: () => ConsoleWorkspaces['connectors'] }): void {
  const { store } = deps;

  app.get('/api/v1/console/overview', async (req): Promise<ConsoleOverview> => {
    requireOperator(req);
    const q = parse(OverviewQuery, req.query);
    const { runs } = store.listRuns({ workspaceIds: null, limit: q.limit ?? 50 });
    return { runs: runs.map((r) => summarize(store, r)), approvals: pendingApprovals(store) };
  });

  app.get('/api/v1/console/workspaces', async (req): Promise<ConsoleWorkspaces> => {
    requireOperator(req);
    const connectors = deps.connectors();
    const workspaces = await Promise.all(
      deps.workspaces.list(callCtx(req)).map(async (w) => ({
        ...w,
        sharedBy: connectors.filter((c) => c.shares.some((entry) => shareReaches(entry, w))).map((c) => c.instanceId),
        executorStatus: await executorStatuses(deps.config.requireWorkspace(w.workspaceId)),
      })),
    );
    return { workspaces, connectors };
  });

  app.get('/api/v1/console/audit', async (req): Promise<ConsoleAudit> => {
    requireOperator(req);
    const q = parse(AuditQuery, req.query);
    const rows = store.listAudit({ before: q.before, actionPrefix: q.action, actor: q.actor, outcome: q.outcome, limit: q.limit ?? 100 });
    return { rows, chain: verifyAuditChain(store.db) };
  });

  app.get('/api/v1/console/diff', async (req) => {
    requireOperator(req);
    const q = parse(DiffQuery, req.query);
    const range = diffRange(store, q);
    const repo = deps.config.requireWorkspace(range.workspaceId).path;
    const text = range.base === range.head ? '' : (await runGit(repo, ['diff', '--no-color', '--no-ext-diff', '-M', range.base, range.head, '--'])).toString('utf8');
    const files = parseUnifiedDiff(text);
    if (q.path !== undefined) {
      const f = files.find((x) => x.path === q.path);
      if (!f) throw new SluiceError('NOT_FOUND', 'No such file in this diff.');
      return { base: range.base, head: range.head, files: [diffPage(f, q.offset ?? 0)] };
    }
    return { base: range.base, head: range.head, files: files.map((f) => diffPage(f, 0)) };
  });
}

/** The commits a run's or an attempt's diff spans. */
function diffRange(store: Store, q: { runId?: string | undefined; attemptId?: string | undefined }): { workspaceId: string; base: string; head: string } {
  if (q.runId !== undefined) {
    const run = store.getRun(q.runId);
    if (!run) throw new SluiceError('RUN_NOT_FOUND');
    return { workspaceId: run.workspaceId, base: run.baseCommit, head: run.headCommit };
  }
  const attempt = store.getAttempt(q.attemptId!);
  const run = attempt ? store.getRun(attempt.runId) : null;
  if (!attempt || !run) throw new SluiceError('ATTEMPT_NOT_FOUND');
  return { workspaceId: run.workspaceId, base: attempt.baseCommit, head: attempt.commit ?? attempt.baseCommit };
}
