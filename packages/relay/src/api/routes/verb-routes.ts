import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { Cursor, hasScope, relayVerbPath, RunId, SluiceError, VERB_NAMES, zodDetails } from '@sluice/shared-protocol';
import { requireOrgWide } from '../../auth/principal.js';
import type { RelayContext } from '../context.js';
import { toSluiceError } from '@sluice/node-kit';
import { principalOf, requireAuth } from '../context.js';

const EventsQuery = z.strictObject({ after: z.coerce.number().pipe(Cursor).optional() });
const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
const FOLLOW_WAIT_MS = 25_000;

/** `/api/v2`: one POST route per verb of the table, the SSE follow route, and the org's audit. */
export function registerVerbRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const auth = requireAuth(ctx);
  for (const verb of VERB_NAMES) {
    app.post(relayVerbPath(verb), { preHandler: auth }, (request) =>
      ctx.dispatcher.call(principalOf(request), verb, request.body === undefined ? {} : request.body, { ip: request.ip, via: 'api' }),
    );
  }

  app.get('/api/v2/runs/:runId/events', { preHandler: auth }, async (request, reply) => {
    const principal = principalOf(request);
    const runId = RunId.safeParse((request.params as { runId: string }).runId);
    const q = EventsQuery.safeParse(request.query);
    if (!runId.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(runId.error));
    if (!q.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(q.error));
    const lastEventId = Number(request.headers['last-event-id']);
    let after = q.data.after ?? (Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : undefined);
    // A revoked, expired or signed-out credential ends the stream: its next poll fails with the code, and audits it.
    const credential = ctx.streams.watch({ authorization: request.headers.authorization, ip: request.ip, path: request.url.split('?')[0] ?? '' });
    const callCtx = { ip: request.ip, via: 'sse' as const, signal: credential.signal };
    const call = (waitMs: number) =>
      ctx.dispatcher.call(principal, 'events.list', { runId: runId.data, ...(after !== undefined ? { after } : {}), waitMs }, callCtx) as Promise<{
        events: { cursor: number; type: string }[];
        nextCursor: number;
      }>;
    // The first page is fetched before the stream opens, so a missing run is a plain 404.
    let page: Awaited<ReturnType<typeof call>>;
    try {
      page = await call(0);
    } catch (err) {
      credential.stop();
      throw err;
    }
    reply.hijack();
    const res = reply.raw;
    let open = true;
    res.on('close', () => {
      open = false;
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    try {
      while (open) {
        for (const ev of page.events) res.write(`id: ${ev.cursor}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`);
        if (page.events.length === 0) res.write(': keep-alive\n\n');
        after = page.nextCursor;
        try {
          await credential.recheck();
          page = await call(FOLLOW_WAIT_MS);
        } catch (err) {
          if (open) res.write(`event: error\ndata: ${JSON.stringify(toSluiceError(err).toBody())}\n\n`);
          break;
        }
      }
    } finally {
      credential.stop();
      res.end();
    }
  });

  app.get('/api/v2/audit', { preHandler: auth }, async (request) => {
    const principal = principalOf(request);
    if (!hasScope(principal.scopes, 'audit:read')) throw new SluiceError('INSUFFICIENT_SCOPE', 'The token lacks the scope audit:read.');
    requireOrgWide(principal, 'the audit log');
    const q = AuditQuery.safeParse(request.query);
    if (!q.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(q.error));
    const limit = q.data.limit ?? 100;
    const rows = await ctx.store.listAudit(principal.orgId, { after: q.data.after, limit });
    const entries = rows.map((r) => ({
      seq: r.seq,
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      ip: r.ip,
      detail: JSON.parse(r.detail) as unknown,
      hash: r.hash,
    }));
    return { entries, nextCursor: rows.length === limit ? rows[rows.length - 1]!.seq : null };
  });
}
