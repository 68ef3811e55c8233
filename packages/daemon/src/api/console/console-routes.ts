import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { SluiceError, zodDetails } from '@sluice/shared-protocol';
import { requireOperator } from '../guard.js';
import { CONSOLE_BASE, withConsoleHeaders } from './static-files.js';
import { CONSOLE_COOKIE, CONSOLE_SESSION_TTL_MS, type ConsoleSessions } from './sessions.js';

/** Where the page redeems a sign-in code (the only console call without a session). */
export const SIGN_IN_PATH = `${CONSOLE_BASE}/api/session`;

const SignInBody = z.strictObject({ code: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) });
const SessionParams = z.strictObject({ id: z.string().regex(/^cs_[0-9a-f]{20}$/) });

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new SluiceError('INVALID_INPUT', undefined, zodDetails(r.error));
  return r.data;
}

function setCookie(reply: FastifyReply, value: string, maxAgeSeconds: number): FastifyReply {
  return reply.header('set-cookie', `${CONSOLE_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`);
}

/** The caller is a console page's session (not the CLI with the token). */
function consoleSessionOf(req: FastifyRequest): string {
  const ctx = requireOperator(req);
  if (!ctx.consoleSession) throw new SluiceError('FORBIDDEN', 'Only a console page has a console session.');
  return ctx.consoleSession;
}

/**
 * Sign-in (a one-time code from `sluice ui` for a session), sign-out and session management. A new link can only be
 * asked for with the daemon token, so a console session cannot extend itself.
 */
export function registerConsoleSessionRoutes(app: FastifyInstance, deps: { sessions: ConsoleSessions; baseUrl: () => string }): void {
  const { sessions } = deps;

  app.post(SIGN_IN_PATH, async (req, reply) => {
    const { code } = parse(SignInBody, req.body);
    const ua = typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : '';
    const { session, cookie, secret } = sessions.exchange(code, ua, req.ip);
    withConsoleHeaders(setCookie(reply, cookie, CONSOLE_SESSION_TTL_MS / 1000)).header('cache-control', 'no-store');
    return { sessionId: session.sessionId, actor: session.actor, expiresAt: session.expiresAt, secret };
  });

  app.get(SIGN_IN_PATH, async (req, reply) => {
    const id = consoleSessionOf(req);
    const s = sessions.list().find((x) => x.sessionId === id)!;
    withConsoleHeaders(reply).header('cache-control', 'no-store');
    return { sessionId: s.sessionId, actor: s.actor, expiresAt: s.expiresAt };
  });

  app.delete(SIGN_IN_PATH, async (req, reply) => {
    const id = consoleSessionOf(req);
    sessions.revoke(id, requireOperator(req).actor, 'sign_out');
    setCookie(reply, '', 0);
    return { signedOut: id };
  });

  app.post('/api/v1/console/links', async (req, reply) => {
    const ctx = requireOperator(req);
    if (ctx.consoleSession) throw new SluiceError('FORBIDDEN', 'A sign-in link is issued to the daemon token holder (sluice ui), not to a console session.');
    const { code, expiresAt } = sessions.issueCode(ctx.actor);
    // The code goes in the fragment: browsers never send it to a server, nor in a Referer.
    return reply.code(201).send({ url: `${deps.baseUrl()}${CONSOLE_BASE}/#code=${code}`, expiresAt });
  });

  app.get('/api/v1/console/sessions', async (req) => {
    const ctx = requireOperator(req);
    return { sessions: sessions.list(), current: ctx.consoleSession ?? null };
  });

  app.delete('/api/v1/console/sessions/:id', async (req) => {
    const ctx = requireOperator(req);
    const { id } = parse(SessionParams, req.params);
    if (!sessions.revoke(id, ctx.actor, ctx.consoleSession ? 'console' : 'cli')) throw new SluiceError('CONSOLE_SESSION_NOT_FOUND');
    return { revoked: id };
  });
}
