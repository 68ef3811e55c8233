import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { ERROR_CATALOG, SCOPES, SluiceError, plannerActor } from '@sluice/shared-protocol';
import type { ErrorCode } from '@sluice/shared-protocol';
import type { RefusalAudit } from '../audit/refusal-audit.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { RelayStore } from '../store/relay-store.js';
import { digestsEqual, hashSecret, isWellFormedSecret, TOKEN_PREFIX } from '../tokens/token-format.js';
import { grantActor, oauthActor } from './oauth-actor.js';
import type { Principal } from './principal.js';

const LAST_USE_RESOLUTION_MS = 60_000;
/** An opaque access token of the built-in authorization server (43 base64url characters). */
const OPAQUE_ACCESS_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** RFC 9068 header `typ` of a JWT access token (lower-cased). */
const ACCESS_TOKEN_TYPES: readonly (string | undefined)[] = ['at+jwt', 'application/at+jwt'];

/** Turns an `Authorization` header into a principal, or throws a catalog error after auditing the failure. */
export class Authenticator {
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly store: RelayStore,
    private readonly config: RelayConfig,
    private readonly resourceUrl: () => string,
    private readonly now: () => number,
    private readonly refusals: RefusalAudit,
  ) {
    const o = config.oauth;
    if (o?.jwks) this.jwks = createLocalJWKSet(o.jwks as Parameters<typeof createLocalJWKSet>[0]);
    else if (o?.jwksUrl) this.jwks = createRemoteJWKSet(new URL(o.jwksUrl));
  }

  /** Authenticate a request; `ip` and `path` only feed the audit row of a failure. */
  async authenticate(header: string | undefined, ip: string | null, path: string): Promise<Principal> {
    const match = /^Bearer ([^\s]+)$/i.exec(header?.trim() ?? '');
    const presented = match?.[1];
    if (!presented) {
      throw this.fail('UNAUTHENTICATED', header ? hashSecret(header) : null, ip, path);
    }
    if (presented.startsWith(TOKEN_PREFIX.planner)) return this.plannerToken(presented, ip, path);
    if (this.jwks && presented.split('.').length === 3) return this.jwt(presented, ip, path);
    if (this.config.oauthServer && OPAQUE_ACCESS_TOKEN.test(presented)) return this.builtinToken(presented, ip, path);
    throw this.fail('TOKEN_MALFORMED', hashSecret(presented), ip, path);
  }

  private async plannerToken(secret: string, ip: string | null, path: string): Promise<Principal> {
    const hash = hashSecret(secret);
    if (!isWellFormedSecret('planner', secret)) throw this.fail('TOKEN_MALFORMED', hash, ip, path);
    const token = await this.store.findTokenByHash(hash);
    if (!token || !digestsEqual(token.hash, hash)) throw this.fail('UNAUTHENTICATED', hash, ip, path);
    const now = this.now();
    if (token.revokedAt !== null) throw this.fail('TOKEN_REVOKED', hash, ip, path, token.orgId, { tokenId: token.id });
    if (token.expiresAt !== null && token.expiresAt <= now) throw this.fail('TOKEN_EXPIRED', hash, ip, path, token.orgId, { tokenId: token.id });
    const last = this.lastTouched.get(token.id) ?? token.lastUsedAt ?? 0;
    if (now - last >= LAST_USE_RESOLUTION_MS) {
      await this.store.touchToken(token.id, now);
      this.lastTouched.set(token.id, now);
    }
    return {
      kind: 'token',
      orgId: token.orgId,
      actor: plannerActor(token.orgId, token.id),
      scopes: token.scopes,
      instanceAllowlist: token.instanceAllowlist,
      tokenId: token.id,
    };
  }

  /** An access token of the built-in authorization server: refused at once once its grant is revoked. */
  private async builtinToken(secret: string, ip: string | null, path: string): Promise<Principal> {
    const hash = hashSecret(secret);
    const rec = await this.store.getOAuthRecord('AccessToken', hash);
    const p = rec?.payload;
    if (!rec || !p || typeof p.grantId !== 'string' || typeof p.clientId !== 'string') throw this.fail('UNAUTHENTICATED', hash, ip, path);
    const detail = { grantId: p.grantId, clientId: p.clientId.slice(0, 200) };
    const grant = await this.store.getOAuthGrant(p.grantId);
    if (!grant || grant.revokedAt !== null) throw this.fail('TOKEN_REVOKED', hash, ip, path, grant?.orgId ?? null, detail);
    if (typeof p.exp !== 'number' || p.exp * 1000 <= this.now()) throw this.fail('TOKEN_EXPIRED', hash, ip, path, grant.orgId, detail);
    if (p.aud !== this.resourceUrl()) throw this.fail('UNAUTHENTICATED', hash, ip, path, grant.orgId, { ...detail, reason: 'the token is for another resource' });
    const asked = typeof p.scope === 'string' ? p.scope.split(' ') : [];
    return {
      kind: 'oauth',
      orgId: grant.orgId,
      actor: grantActor(grant.orgId, grant.id),
      scopes: grant.scopes.filter((s) => asked.includes(s)),
      instanceAllowlist: grant.instanceAllowlist,
      grantId: grant.id,
      clientId: grant.clientId,
    };
  }

  private async jwt(jwt: string, ip: string | null, path: string): Promise<Principal> {
    const o = this.config.oauth!;
    const hash = hashSecret(jwt);
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({ payload, protectedHeader: { typ } } = await jwtVerify(jwt, this.jwks!, {
        issuer: o.issuer,
        audience: o.audience ?? this.resourceUrl(),
        requiredClaims: ['exp'],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw this.fail(err instanceof joseErrors.JWTExpired ? 'TOKEN_EXPIRED' : 'UNAUTHENTICATED', hash, ip, path);
    }
    const refused = this.jwtPolicyProblem(payload, typ);
    if (refused) throw this.fail('UNAUTHENTICATED', hash, ip, path, null, { reason: refused });
    const org = payload[o.orgClaim];
    const sub = payload.sub;
    if (typeof org !== 'string' || !(await this.store.getOrg(org)) || typeof sub !== 'string' || sub.length === 0) {
      throw this.fail('UNAUTHENTICATED', hash, ip, path);
    }
    const issuerHost = new URL(o.issuer).host;
    const actor = oauthActor(issuerHost, sub);
    if (await this.store.isOAuthSubjectRevoked(o.issuer, sub)) throw this.fail('TOKEN_REVOKED', hash, ip, path, org, { subject: actor });
    const raw = typeof payload.scope === 'string' ? payload.scope.split(' ') : Array.isArray(payload.scp) ? payload.scp : typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
    const scopes = raw.filter((s): s is string => typeof s === 'string' && (SCOPES as readonly string[]).includes(s));
    return { kind: 'oauth', orgId: org, actor, scopes, instanceAllowlist: null };
  }

  /** Why a verified JWT is still not an access token the relay takes, or undefined. */
  private jwtPolicyProblem(payload: JWTPayload, typ: string | undefined): string | undefined {
    const o = this.config.oauth!;
    const t = typ?.toLowerCase();
    const accepted = o.requireTyp ? ACCESS_TOKEN_TYPES : [...ACCESS_TOKEN_TYPES, undefined, 'jwt'];
    if (!accepted.includes(t)) return `typ ${JSON.stringify(typ ?? null)} is not an access token type`;
    const exp = payload.exp!;
    const start = payload.iat ?? payload.nbf ?? Math.floor(this.now() / 1000);
    if (exp - start > o.maxLifetimeSeconds || exp - this.now() / 1000 > o.maxLifetimeSeconds) return `lifetime over ${o.maxLifetimeSeconds} s`;
    return undefined;
  }

  private fail(code: ErrorCode, presentedHash: string | null, ip: string | null, path: string, orgId: string | null = null, extra: Record<string, string> = {}): SluiceError {
    this.refusals.record({
      orgId,
      actor: 'system:relay-auth',
      action: 'auth.failed',
      target: path.slice(0, 200),
      outcome: code,
      ip,
      detail: { presentedSha256: presentedHash, ...extra },
    });
    return new SluiceError(code, extra.reason ? `${ERROR_CATALOG[code].message} (${extra.reason})` : undefined);
  }
}
