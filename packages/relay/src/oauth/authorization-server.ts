import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { SCOPES } from '@sluice/shared-protocol';
import type { RelayStore } from '../store/relay-store.js';
import { clientDocumentFetch } from './client-document-fetch.js';
import type { ClientDocumentFetchOptions } from './client-document-fetch.js';
import { clientMetadataProblem, redirectUrisProblem } from './client-policy.js';
import { OAUTH_PATHS, REVOKED_CLIENT_MODEL } from './oauth-paths.js';
import { StoreAdapter } from './store-adapter.js';
import { hashSecret } from '../tokens/token-format.js';

export interface AuthorizationServerOptions {
  issuer: string;
  /** The MCP resource: the only audience tokens are issued for. */
  resource: string;
  store: RelayStore;
  now: () => number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  unusedClientTtlSeconds: number;
  /** Behind a TLS proxy: trust its X-Forwarded-Proto for secure cookies. */
  proxy: boolean;
  fetch: Omit<ClientDocumentFetchOptions, 'maxBytes' | 'timeoutMs'>;
  /** A grant was revoked by the protocol itself (a code or refresh token used twice). */
  onGrantRevoked: (grantId: string, reason: string) => void;
}

/**
 * The default prompts, except that consent is asked on every authorization (never skipped because an earlier grant
 * covers the scopes) and may grant fewer scopes than asked: the token carries what the admin approved.
 */
function everyAuthorizationAsksAnAdmin(): interactionPolicy.Prompt[] {
  const { base, Check } = interactionPolicy;
  const policy = base();
  const consent = policy.get('consent')!;
  for (const name of ['op_scopes_missing', 'op_claims_missing', 'rs_scopes_missing']) consent.checks.remove(name);
  consent.checks.add(
    new Check('admin_consent', 'an org admin approves every authorization', (ctx) => (ctx.oidc.result?.consent?.grantId ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT)),
  );
  return policy;
}

const CLIENT_DOCUMENT_MAX_BYTES = 5 * 1024;
const CLIENT_DOCUMENT_TIMEOUT_MS = 2000;

/** The OAuth 2.1 authorization server (panva's oidc-provider) configured for MCP clients, stored in the relay store. */
export function createAuthorizationServer(o: AuthorizationServerOptions): Provider {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: randomBytes(8).toString('hex') };
  const adapterOptions = { now: o.now, unusedClientTtlMs: o.unusedClientTtlSeconds * 1000 };
  const scopes = SCOPES.join(' ');
  const config: Configuration = {
    adapter: (name: string) => new StoreAdapter(name, o.store, adapterOptions),
    clients: [],
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: [...SCOPES],
    claims: { openid: ['sub'] },
    responseTypes: ['code'],
    clientAuthMethods: ['none'],
    clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', id_token_signed_response_alg: 'ES256' },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    routes: { authorization: OAUTH_PATHS.authorization, token: OAUTH_PATHS.token, registration: OAUTH_PATHS.registration, revocation: OAUTH_PATHS.revocation, jwks: OAUTH_PATHS.jwks },
    interactions: { policy: everyAuthorizationAsksAnAdmin(), url: (_ctx, interaction) => `${OAUTH_PATHS.consent}/${interaction.uid}` },
    // Only the grant an admin just approved for this very authorization; an earlier one is never reused.
    loadExistingGrant: (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    expiresWithSession: () => false,
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    ttl: {
      AccessToken: o.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      RefreshToken: o.refreshTokenTtlSeconds,
      Grant: o.refreshTokenTtlSeconds,
      Interaction: 600,
      Session: 600,
    },
    extraClientMetadata: {
      properties: ['redirect_uris'],
      validator: (_ctx, _key, value, metadata) => {
        const problem = clientMetadataProblem(metadata as Record<string, unknown>);
        if (problem) throw new errors.InvalidClientMetadata(problem);
        const uriProblem = redirectUrisProblem(value);
        if (uriProblem) throw new errors.InvalidRedirectUri(uriProblem);
      },
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      revocation: { enabled: true },
      introspection: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => o.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== o.resource) throw new errors.InvalidTarget('this authorization server issues tokens for its own MCP resource only');
          return { scope: scopes, audience: o.resource, accessTokenTTL: o.accessTokenTtlSeconds, accessTokenFormat: 'opaque' };
        },
      },
      clientIdMetadataDocument: {
        enabled: true,
        ack: 'draft-02',
        allowClient: async (_ctx: KoaContextWithOIDC, client) => !(await o.store.getOAuthRecord(REVOKED_CLIENT_MODEL, hashSecret(client.clientId))),
        cacheDuration: { min: 0, max: 3600 },
      },
    },
    fetch: clientDocumentFetch({ ...o.fetch, maxBytes: CLIENT_DOCUMENT_MAX_BYTES, timeoutMs: CLIENT_DOCUMENT_TIMEOUT_MS }),
    fetchResponseBodyLimits: { 'client_id metadata document': CLIENT_DOCUMENT_MAX_BYTES },
    renderError: (ctx, out) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${String(out.error)}: ${String(out.error_description ?? '')}\n`;
    },
  };
  const provider = new Provider(o.issuer, config);
  provider.proxy = o.proxy;
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    o.onGrantRevoked(grantId, ctx.oidc?.route === 'token' ? 'credential reused' : 'revoked');
  });
  return provider;
}
