import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { Cursor, LIMITS, Name, RunId, SluiceError, zodDetails } from '@sluice/shared-protocol';
import { ADDABLE_ADAPTERS } from '../config/workspaces.js';
import { Duration } from '../config/duration.js';
import type { GcOptions, GcReport } from '../service/retention.js';
import type { WorkspaceService } from '../service/workspace-service.js';
import { verifyAuditChain, type Store } from '../store/index.js';
import { DAEMON_VERSION } from '../version.js';
import { callCtx, requireOperator } from './guard.js';

const AddWorkspaceBody = z.strictObject({ path: z.string().min(1).max(4096), id: Name.optional(), executors: z.record(Name, z.enum(ADDABLE_ADAPTERS)).optional() });
const GcBody = z.strictObject({ olderThan: Duration.optional(), dryRun: z.boolean().default(false) });
const EventsQuery = z.strictObject({
  after: z.coerce.number().pipe(Cursor).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.eventsPageSize).optional(),
  runId: RunId.optional(),
});

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(r.error));
  return r.data;
}

/** Workspace management, status, gc, audit verify and the all-runs event feed. */
export function registerOperatorRoutes(
  app: FastifyInstance,
  deps: { store: Store; workspaces: WorkspaceService; gc: (o: GcOptions) => Promise<GcReport>; cwd: string; startedAt: string },
): void {
  const { store, workspaces } = deps;

  app.get('/api/v1/workspaces', async (req) => ({ workspaces: workspaces.list(callCtx(req)) }));

  app.post('/api/v1/workspaces', async (req, reply) => {
    const ctx = requireOperator(req);
    const body = parse(AddWorkspaceBody, req.body);
    return reply.code(201).send(workspaces.add(body, ctx, deps.cwd));
  });

  app.delete('/api/v1/workspaces/:id', async (req) => {
    const ctx = requireOperator(req);
    const { id } = parse(z.strictObject({ id: Name }), req.params);
    workspaces.remove(id, ctx);
    return { removed: id };
  });

  app.get('/api/v1/status', async (req) => {
    requireOperator(req);
    return {
      version: DAEMON_VERSION,
      pid: process.pid,
      startedAt: deps.startedAt,
      workspaces: workspaces.list(callCtx(req)).map((w) => w.workspaceId),
      ...store.counts(),
    };
  });

  app.post('/api/v1/gc', async (req) => {
    const ctx = requireOperator(req);
    const body = parse(GcBody, req.body ?? {});
    return deps.gc({ actor: ctx.actor, dryRun: body.dryRun, ...(body.olderThan !== undefined ? { olderThanMs: body.olderThan } : {}) });
  });

  app.post('/api/v1/audit/verify', async (req) => {
    requireOperator(req);
    return verifyAuditChain(store.db);
  });

  app.get('/api/v1/events', async (req) => {
    requireOperator(req);
    const q = parse(EventsQuery, req.query);
    const events = store.listEvents({ runId: q.runId, after: q.after, limit: q.limit ?? 100 });
    return { events, nextCursor: events.at(-1)?.cursor ?? q.after ?? 0 };
  });
}
