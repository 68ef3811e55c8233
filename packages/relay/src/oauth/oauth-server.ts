import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { LiveRelay } from '../admin/admin-service.js';
import { RateLimiter } from '../api/rate-limiter.js';
import type { RefusalAudit } from '../audit/refusal-audit.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { RelayStore } from '../store/relay-store.js';
import { AdminSignIn } from './admin-sign-in.js';
import { createAuthorizationServer } from './authorization-server.js';
import type { ClientDocumentFetchOptions } from './client-document-fetch.js';
import { OAuthAdmin } from './oauth-admin.js';

const FIFTEEN_MIN_MS = 15 * 60_000;
/** Expired codes, tokens, interactions and unused registrations are deleted this often. */
const SWEEP_MS = 10 * 60_000;
const SYSTEM_ACTOR = 'system:oauth-server';

export interface OAuthServerDeps {
  store: RelayStore;
  config: RelayConfig;
  refusals: RefusalAudit;
  live: LiveRelay;
  now: () => number;
  issuer: () => string;
  resource: () => string;
  fetch: Omit<ClientDocumentFetchOptions, 'maxBytes' | 'timeoutMs'>;
}

/** Audit what the authorization server refused or issued, naming the client (never a secret). */
function auditEvents(provider: Provider, d: OAuthServerDeps): void {
  const refused = (action: string) => (ctx: KoaContextWithOIDC, err: { error?: string; error_description?: string }) => {
    d.refusals.record({
      orgId: null,
      actor: SYSTEM_ACTOR,
      action,
      target: String(ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id ?? '').slice(0, 200) || null,
      outcome: String(err.error ?? 'server_error'),
      ip: ctx.ip ?? null,
      detail: { description: String(err.error_description ?? '').slice(0, 200) },
    });
  };
  provider.on('authorization.error', refused('oauth.authorize'));
  provider.on('grant.error', refused('oauth.token'));
  provider.on('registration_create.error', refused('oauth.register'));
  provider.on('revocation.error', refused('oauth.revoke'));
  provider.on('registration_create.success', (ctx: KoaContextWithOIDC, client: { clientId: string; clientName?: string }) => {
    void d.store.appendAudit({ orgId: null, actor: SYSTEM_ACTOR, action: 'oauth.register', target: client.clientId, outcome: 'ok', ip: ctx.ip ?? null, detail: { clientName: client.clientName ?? null } });
  });
}

/** The built-in authorization server's parts: the provider (made once the origin is known), admin sign-in, admin. */
export function createOAuthServer(d: OAuthServerDeps) {
  const o = d.config.oauthServer!;
  const admin = new OAuthAdmin(d.store, d.live, d.now);
  let provider: Provider | undefined;
  const make = (): Provider => {
    const p = createAuthorizationServer({
      issuer: d.issuer(),
      resource: d.resource(),
      store: d.store,
      now: d.now,
      accessTokenTtlSeconds: o.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: o.refreshTokenTtlSeconds,
      unusedClientTtlSeconds: o.unusedClientTtlSeconds,
      proxy: d.config.trustProxy !== false,
      fetch: d.fetch,
      onGrantRevoked: (grantId, reason) => void admin.revokeGrant(grantId, { actor: SYSTEM_ACTOR }, reason).catch(() => undefined),
    });
    auditEvents(p, d);
    return p;
  };
  const sweep = setInterval(() => void d.store.deleteExpiredOAuthRecords(d.now()).catch(() => undefined), SWEEP_MS);
  sweep.unref();
  return {
    stop: () => clearInterval(sweep),
    provider: () => (provider ??= make()),
    signIn: new AdminSignIn(d.store, d.refusals, new RateLimiter(o.signInAttemptsPer15Min, FIFTEEN_MIN_MS, d.now), { sessionTtlMs: o.adminSessionTtlSeconds * 1000, now: d.now }),
    admin,
  };
}
