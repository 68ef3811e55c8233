import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Scope, SluiceError } from '@sluice/shared-protocol';
import type Provider from 'oidc-provider';
import { ADMIN_COOKIE } from '../../oauth/admin-sign-in.js';
import type { AdminSignIn } from '../../oauth/admin-sign-in.js';
import { OAUTH_PATHS } from '../../oauth/oauth-paths.js';
import { approve, checkDecision, choicesFor, scopesOf, summarizeClient } from '../../oauth/consent.js';
import { CONSENT_HEADERS, consentPage, messagePage, signInPage } from '../../oauth/consent-page.js';
import type { OAuthAdmin } from '../../oauth/oauth-admin.js';
import type { RelayContext } from '../context.js';
import { limitRate, mcpResourceUrl } from '../context.js';
import { RateLimiter } from '../rate-limiter.js';

/** The built-in authorization server as the routes see it (made on first use: its issuer is the bound origin). */
export interface OAuthServerParts {
  provider: () => Provider;
  stop: () => void;
  signIn: AdminSignIn;
  admin: OAuthAdmin;
}

const PROVIDER_ROUTES = [OAUTH_PATHS.authorization, `${OAUTH_PATHS.authorization}/:uid`, OAUTH_PATHS.token, OAUTH_PATHS.registration, OAUTH_PATHS.revocation, OAUTH_PATHS.jwks, '/.well-known/openid-configuration'];
const HOUR_MS = 3_600_000;

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function listOf(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** Hand the raw request to the authorization server, with the headers the relay set so far. */
async function forward(provider: Provider, request: FastifyRequest, reply: FastifyReply, url?: string): Promise<void> {
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) reply.raw.setHeader(k, v as string);
  if (url) request.raw.url = url;
  reply.hijack();
  await provider.callback()(request.raw, reply.raw);
}

/** RFC 8414 metadata, the protocol endpoints (oidc-provider), and the consent pages where an org admin approves. */
export function registerOAuthRoutes(app: FastifyInstance, ctx: RelayContext, parts: OAuthServerParts): void {
  const registrations = new RateLimiter(ctx.config.oauthServer!.registrationsPerHour, HOUR_MS, ctx.now);
  const secure = () => ctx.origin().startsWith('https:');

  void app.register(async (scope) => {
    // The authorization server reads its own bodies (form or JSON, 56 KiB at most).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.addHook('onRequest', async (request, reply) => {
      if (request.method === 'POST' && request.routeOptions.url === OAUTH_PATHS.registration) {
        const retryAfterS = registrations.take(`ip:${request.ip}`);
        if (retryAfterS !== undefined) {
          void reply.header('retry-after', String(retryAfterS));
          throw new SluiceError('RATE_LIMITED', `Too many client registrations; retry in ${retryAfterS} s.`);
        }
      }
    });
    for (const url of PROVIDER_ROUTES) scope.all(url, (request, reply) => forward(parts.provider(), request, reply));
    scope.get('/.well-known/oauth-authorization-server', (request, reply) => forward(parts.provider(), request, reply, '/.well-known/openid-configuration'));
  });

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, parseQuery(body as string)));
    registerConsentPages(scope, ctx, parts, secure);
  });
}

function registerConsentPages(app: FastifyInstance, ctx: RelayContext, parts: OAuthServerParts, secure: () => boolean): void {
  const base = `${OAUTH_PATHS.consent}/:uid`;
  type Req = FastifyRequest<{ Params: { uid: string }; Body: Record<string, unknown> | undefined }>;

  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).headers(CONSENT_HEADERS).send(body);

  /** The interaction and its client, or a page saying it is gone (expired, or opened without its cookie). */
  const load = async (request: Req, reply: FastifyReply) => {
    const provider = parts.provider();
    let details;
    try {
      details = await provider.interactionDetails(request.raw, reply.raw);
    } catch {
      await html(reply, 400, messagePage('This approval expired', 'Start the connection again from the MCP client.'));
      return undefined;
    }
    if (details.uid !== request.params.uid) {
      await html(reply, 400, messagePage('This approval expired', 'Start the connection again from the MCP client.'));
      return undefined;
    }
    const client = await provider.Client.find(String(details.params.client_id));
    if (!client) {
      await html(reply, 400, messagePage('Unknown client', 'The client is no longer registered.'));
      return undefined;
    }
    return { provider, details, client: summarizeClient(client, String(details.params.redirect_uri)), asked: scopesOf(details.params.scope) };
  };

  const render = async (request: Req, reply: FastifyReply, status = 200, error?: string) => {
    const it = await load(request, reply);
    if (!it) return reply;
    const session = cookieOf(request, ADMIN_COOKIE);
    const admin = await parts.signIn.current(session);
    if (!admin) return html(reply, status, signInPage({ uid: it.details.uid, client: it.client, scopesAsked: it.asked, csrf: parts.signIn.csrfToken(it.details.uid, undefined), ...(error ? { error } : {}) }));
    const choices = await choicesFor(ctx.store, admin, it.asked);
    return html(reply, status, consentPage({ uid: it.details.uid, client: it.client, scopesAsked: it.asked, csrf: parts.signIn.csrfToken(it.details.uid, session), adminName: admin.name, choices, ...(error ? { error } : {}) }));
  };

  const refuseCsrf = (request: Req, reply: FastifyReply) => {
    ctx.refusals.record({ orgId: null, actor: 'system:oauth-consent', action: 'oauth.consent', target: request.url.split('?')[0]!.slice(0, 200), outcome: 'CSRF', ip: request.ip, detail: {} });
    return html(reply, 403, messagePage('Refused', 'The form was not sent from this page. Open the approval link again.'));
  };

  app.get<{ Params: { uid: string } }>(base, (request, reply) => render(request as Req, reply));

  app.post<{ Params: { uid: string }; Body: Record<string, unknown> | undefined }>(`${base}/sign-in`, async (request, reply) => {
    limitRate(ctx, reply, `ip:${request.ip}`);
    const body = request.body ?? {};
    if (!parts.signIn.csrfValid(body.csrf, request.params.uid, undefined)) return refuseCsrf(request, reply);
    const it = await load(request, reply);
    if (!it) return reply;
    try {
      const { secret } = await parts.signIn.signIn(String(body.name ?? ''), String(body.password ?? ''), request.ip);
      const maxAge = Math.floor(ctx.config.oauthServer!.adminSessionTtlSeconds);
      void reply.header('set-cookie', `${ADMIN_COOKIE}=${secret}; Path=${OAUTH_PATHS.consent}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure() ? '; Secure' : ''}`);
      return reply.code(303).headers({ 'cache-control': 'no-store' }).redirect(`${OAUTH_PATHS.consent}/${encodeURIComponent(request.params.uid)}`);
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      if (err.code === 'RATE_LIMITED') void reply.header('retry-after', '900');
      return html(reply, err.status, signInPage({ uid: it.details.uid, client: it.client, scopesAsked: it.asked, csrf: parts.signIn.csrfToken(it.details.uid, undefined), error: err.message }));
    }
  });

  app.post<{ Params: { uid: string }; Body: Record<string, unknown> | undefined }>(`${base}/decide`, async (request, reply) => {
    const body = request.body ?? {};
    const session = cookieOf(request, ADMIN_COOKIE);
    const admin = await parts.signIn.current(session);
    if (!admin) {
      ctx.refusals.record({ orgId: null, actor: 'system:oauth-consent', action: 'oauth.consent', target: request.params.uid.slice(0, 100), outcome: 'UNAUTHENTICATED', ip: request.ip, detail: {} });
      return html(reply, 401, messagePage('Sign in first', 'Only a signed-in admin can approve a client.'));
    }
    if (!parts.signIn.csrfValid(body.csrf, request.params.uid, session)) return refuseCsrf(request, reply);
    const it = await load(request, reply);
    if (!it) return reply;
    const by = { actor: `system:oauth-consent`, ip: request.ip };
    if (body.decision !== 'approve') {
      await ctx.store.appendAudit({ orgId: null, actor: by.actor, action: 'oauth.consent', target: it.client.clientId.slice(0, 200), outcome: 'denied', ip: request.ip, detail: { adminId: admin.id } });
      const to = await it.provider.interactionResult(request.raw, reply.raw, { error: 'access_denied', error_description: 'An admin of the relay declined.' }, { mergeWithLastSubmission: false });
      return reply.code(303).redirect(to);
    }
    const scopes: Scope[] = [];
    for (const s of listOf(body.scope)) {
      const parsed = Scope.safeParse(s);
      if (!parsed.success) return render(request, reply, 400, `Unknown scope ${s}.`);
      scopes.push(parsed.data);
    }
    const decision = { orgId: String(body.org ?? ''), scopes, instances: listOf(body.instance) };
    try {
      await checkDecision(ctx.store, admin, it.asked, decision);
      const grant = await approve(it.provider, ctx.store, { client: it.client, resource: mcpResourceUrl(ctx), admin, decision });
      await ctx.store.appendAudit({ orgId: grant.orgId, actor: by.actor, action: 'oauth.grant_create', target: grant.id, outcome: 'ok', ip: request.ip, detail: { clientId: grant.clientId, clientName: grant.clientName, scopes: grant.scopes, instances: grant.instanceAllowlist, adminId: admin.id, adminName: admin.name } });
      const to = await it.provider.interactionResult(request.raw, reply.raw, { login: { accountId: grant.orgId }, consent: { grantId: grant.id } }, { mergeWithLastSubmission: false });
      return reply.code(303).redirect(to);
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      return render(request, reply, err.status, err.message);
    }
  });
}
