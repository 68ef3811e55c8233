import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { Cursor, RunId, SluiceError, zodDetails } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';
import { requireOperator } from './guard.js';

const StreamQuery = z.strictObject({ after: z.coerce.number().pipe(Cursor).optional(), runId: RunId.optional() });

/**
 * `GET /api/v1/events/stream`: server-sent events of every run (or one), resuming after `Last-Event-ID`
 * (or `?after=`); without either it starts at the newest event. Each event's id is its cursor.
 */
export function registerEventStream(app: FastifyInstance, store: Store): void {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get('/api/v1/events/stream', (req, reply) => {
    requireOperator(req);
    const q = StreamQuery.safeParse(req.query);
    if (!q.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(q.error));
    const lastId = req.headers['last-event-id'];
    let cursor: number;
    if (typeof lastId === 'string' && lastId.length > 0) {
      const n = Cursor.safeParse(Number(lastId));
      if (!/^\d+$/.test(lastId) || !n.success) throw new SluiceError('BAD_REQUEST', 'Last-Event-ID must be an event cursor.');
      cursor = n.data;
    } else {
      cursor = q.data.after ?? store.lastCursor();
    }
    const runId = q.data.runId;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write(': sluice events\n\n');
    let waitingForDrain = false;
    let closed = false;
    const pump = () => {
      if (closed || waitingForDrain) return;
      for (;;) {
        const events = store.listEvents({ runId, after: cursor, limit: 500 });
        for (const e of events) {
          cursor = e.cursor;
          if (!res.write(`id: ${e.cursor}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)) waitingForDrain = true;
        }
        if (events.length < 500 || waitingForDrain) break;
      }
      if (waitingForDrain) {
        res.once('drain', () => {
          waitingForDrain = false;
          pump();
        });
      }
    };
    const unsubscribe = store.bus.subscribe((n) => {
      if (!runId || n.runIds.has(runId)) pump();
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    const end = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(heartbeat);
      open.delete(end);
      res.end();
    };
    open.add(end);
    res.on('close', end);
    res.on('error', end);
    pump();
  });
}
