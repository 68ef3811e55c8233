import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACTOR_PATTERN, HEADERS, SluiceError } from '@sluice/shared-protocol';
import { operatorActor } from '@sluice/node-kit';
import type { CallContext } from '../service/call-context.js';
import type { RefusalAudit } from './refusal-audit.js';
import type { SharedWorkspaces } from './shared-workspaces.js';
import { cameThroughHomeSocket } from './home-socket.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who calls and what they may see; set by the guard on every authenticated request. */
    callCtx: CallContext | null;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The call context of an authenticated request. */
export function callCtx(req: FastifyRequest): CallContext {
  if (!req.callCtx) throw new SluiceError('UNAUTHENTICATED');
  return req.callCtx;
}

/** Operator routes refuse remote (shared-workspace) requests. */
export function requireOperator(req: FastifyRequest): CallContext {
  const ctx = callCtx(req);
  if (ctx.sharedWorkspaces !== null) throw new SluiceError('FORBIDDEN', 'This route is for local operators only.');
  return ctx;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Every route but `/healthz`: over TCP, Host must be a loopback name with our port (DNS rebinding; a browser cannot
 * reach the home socket, so requests there skip it), a browser Origin must be our own, and the bearer token must match (constant time). Refusals are audited with a hash of the
 * presented token, never the token.
 */
export function installGuard(app: FastifyInstance, opts: { token: string; refusals: RefusalAudit; shares: SharedWorkspaces; port: () => number }): void {
  const expected = sha256(opts.token);
  const defaultActor = operatorActor();
  app.decorateRequest('callCtx', null);
  app.addHook('onRequest', async (req) => {
    if (req.url === '/healthz' || req.url.startsWith('/healthz?')) return;
    const port = opts.port();
    const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    const presented = single(req.headers.authorization);
    const refuse = (code: 'UNAUTHENTICATED' | 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED') => {
      const bearer = presented?.startsWith('Bearer ') ? presented.slice(7) : presented;
      opts.refusals.record({
        actor: 'system:api',
        action: 'auth.refused',
        target: null,
        outcome: code,
        details: {
          method: req.method,
          path: req.url.split('?')[0]!.slice(0, 200),
          ip: req.ip,
          tokenSha256: bearer ? sha256(bearer).toString('hex') : null,
        },
      }, req.ip);
      return new SluiceError(code);
    };
    const host = (single(req.headers.host) ?? '').toLowerCase();
    if (!cameThroughHomeSocket(req.raw) && !allowedHosts.includes(host)) throw refuse('HOST_NOT_ALLOWED');
    const origin = single(req.headers.origin);
    if (origin !== undefined && !allowedHosts.some((h) => origin.toLowerCase() === `http://${h}`)) throw refuse('ORIGIN_NOT_ALLOWED');
    const m = presented ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(presented) : null;
    if (!m || !timingSafeEqual(sha256(m[1]!), expected)) throw refuse('UNAUTHENTICATED');

    const actorHeader = single(req.headers[HEADERS.actor]);
    if (actorHeader !== undefined && !ACTOR_PATTERN.test(actorHeader)) throw new SluiceError('BAD_REQUEST', `${HEADERS.actor} must be kind:identity.`);
    const sharedHeader = single(req.headers[HEADERS.sharedWorkspaces]);
    const shared = sharedHeader === undefined ? null : opts.shares.resolve(sharedHeader);
    req.callCtx = { actor: actorHeader ?? defaultActor, sharedWorkspaces: shared };
  });
}
