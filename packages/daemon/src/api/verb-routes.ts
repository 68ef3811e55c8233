import type { FastifyInstance } from 'fastify';
import { SluiceError, VERB_NAMES, VERBS, daemonVerbPath, zodDetails } from '@sluice/shared-protocol';
import type { VerbService } from '../service/verb-service.js';
import { callCtx } from './guard.js';

/** `POST /api/v1/verbs/<verb>` for every verb the daemon serves, generated from the table. */
export function registerVerbRoutes(app: FastifyInstance, service: VerbService): void {
  for (const verb of VERB_NAMES) {
    if (!service.serves(verb)) continue;
    const spec = VERBS[verb];
    app.post(daemonVerbPath(verb), async (req) => {
      const ctx = callCtx(req);
      const parsed = spec.input.safeParse(req.body);
      if (!parsed.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(parsed.error));
      const result = await service.call(verb, parsed.data as never, ctx);
      return spec.output.parse(result);
    });
  }
  app.post(daemonVerbPath('*'), async () => {
    throw new SluiceError('UNKNOWN_VERB');
  });
}
