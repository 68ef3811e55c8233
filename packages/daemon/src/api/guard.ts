import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACTOR_PATTERN, HEADERS, SluiceError } from '@sluice/shared-protocol';
import { operatorActor } from '@sluice/node-kit';
import type { CallContext } from '../service/call-context.js';
import type { RefusalAudit } from './refusal-audit.js';
import type { SharedWorkspaces } from './shared-workspaces.js';
import { cameThroughHomeSocket } from './home-socket.js';
import { CONSOLE_COOKIE, CONSOLE_SECRET_HEADER, type ConsoleSessions } from './console/sessions.js';

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

/** Console pages and the sign-in exchange: served before any session exists (they hold no data). */
export interface PublicRoutes {
  isPublic(method: string, path: string): boolean;
}

/** A cookie's value from the Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

type RefusalCode = 'UNAUTHENTICATED' | 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED' | 'CONSOLE_SECRET_REQUIRED' | 'CONSOLE_SESSION_INVALID';

/**
 * Every route but `/healthz`: over TCP, Host must be a loopback name with our port (DNS rebinding; a browser cannot
 * reach the home socket, so requests there skip it), a browser Origin must be our own, and the caller must present
 * the bearer token (constant time) or a console session: its cookie and, in a header, its secret, which a page on
 * another origin cannot send (the cookie reaches every server on 127.0.0.1, the secret only lives in our page).
 * Refusals are audited with a hash of the presented token, never the token.
 */
export function installGuard(
  app: FastifyInstance,
  opts: { token: string; refusals: RefusalAudit; shares: SharedWorkspaces; port: () => number; consoleSessions: ConsoleSessions; publicRoutes: PublicRoutes },
): void {
  const expected = sha256(opts.token);
  const defaultActor = operatorActor();
  app.decorateRequest('callCtx', null);
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (path === '/healthz') return;
    const port = opts.port();
    const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    const presented = single(req.headers.authorization);
    const refuse = (code: RefusalCode) => {
      const bearer = presented?.startsWith('Bearer ') ? presented.slice(7) : presented;
      opts.refusals.record({
        actor: 'system:api',
        action: 'auth.refused',
        target: null,
        outcome: code,
        details: {
          method: req.method,
          path: path.slice(0, 200),
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
    // A browser names the origin of every state-changing request; one without it did not come from our page.
    const unsafe = req.method !== 'GET' && req.method !== 'HEAD';
    const sessionCookie = presented === undefined ? cookieValue(single(req.headers.cookie), CONSOLE_COOKIE) : undefined;
    if (opts.publicRoutes.isPublic(req.method, path)) {
      if (unsafe && origin === undefined) throw refuse('ORIGIN_NOT_ALLOWED');
      return;
    }
    if (sessionCookie !== undefined) {
      if (unsafe && origin === undefined) throw refuse('ORIGIN_NOT_ALLOWED');
      const secret = single(req.headers[CONSOLE_SECRET_HEADER]);
      if (!secret) throw refuse('CONSOLE_SECRET_REQUIRED');
      const session = opts.consoleSessions.authenticate(sessionCookie, secret);
      if (!session) throw refuse('CONSOLE_SESSION_INVALID');
      if (req.headers[HEADERS.actor] !== undefined || req.headers[HEADERS.sharedWorkspaces] !== undefined) {
        throw new SluiceError('BAD_REQUEST', `A console session acts as ${session.actor}; ${HEADERS.actor} and ${HEADERS.sharedWorkspaces} are refused.`);
      }
      req.callCtx = { actor: session.actor, sharedWorkspaces: null, consoleSession: session.sessionId };
      return;
    }
    const m = presented ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(presented) : null;
    if (!m || !timingSafeEqual(sha256(m[1]!), expected)) throw refuse('UNAUTHENTICATED');

    const actorHeader = single(req.headers[HEADERS.actor]);
    if (actorHeader !== undefined && !ACTOR_PATTERN.test(actorHeader)) throw new SluiceError('BAD_REQUEST', `${HEADERS.actor} must be kind:identity.`);
    const sharedHeader = single(req.headers[HEADERS.sharedWorkspaces]);
    const shared = sharedHeader === undefined ? null : opts.shares.resolve(sharedHeader);
    req.callCtx = { actor: actorHeader ?? defaultActor, sharedWorkspaces: shared };
  });
}
