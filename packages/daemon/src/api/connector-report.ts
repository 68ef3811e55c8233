import type { FastifyInstance } from 'fastify';
import { ConnectorReport, DAEMON_PATHS, SluiceError, zodDetails } from '@sluice/shared-protocol';
import { requireOperator } from './guard.js';

/**
 * The connector's own account of its relay session, posted over the home socket whenever it changes. Kept in
 * memory only (a restarted daemon hears again at the connector's next change or refresh); the daemon never reads
 * the connector's config, which holds its private key.
 */
export function registerConnectorReports(app: FastifyInstance): () => (ConnectorReport & { receivedAt: string })[] {
  const reports = new Map<string, ConnectorReport & { receivedAt: string }>();

  app.post(DAEMON_PATHS.connectorReport, async (req) => {
    const ctx = requireOperator(req);
    if (ctx.consoleSession) throw new SluiceError('FORBIDDEN', 'Only the connector reports its state.');
    const r = ConnectorReport.safeParse(req.body);
    if (!r.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(r.error));
    const known = reports.get(r.data.instanceId);
    if (!known || known.updatedAt <= r.data.updatedAt) reports.set(r.data.instanceId, { ...r.data, receivedAt: new Date().toISOString() });
    return { ok: true };
  });
  return () => [...reports.values()];
}
