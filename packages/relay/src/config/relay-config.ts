import * as z from 'zod';

/** Plain http is only for an issuer on this machine (tests, a local IdP): elsewhere keys and issuer could be spoofed. */
function httpsOffLoopback(u: string): boolean {
  const url = new URL(u);
  if (url.protocol === 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return url.protocol === 'http:' && (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
}
const SecureUrl = z.string().url().refine(httpsOffLoopback, 'must be an https: URL (http: only on a loopback host)');

const OAuthConfig = z.strictObject({
  /** Expected `iss` of access tokens. */
  issuer: SecureUrl,
  /** Remote JWKS; or `jwks` for a key set given inline (tests, air-gapped setups). */
  jwksUrl: SecureUrl.optional(),
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  /** Expected `aud`; defaults to the MCP resource URL. */
  audience: z.string().min(1).optional(),
  /** The claim holding the relay org id of the caller. */
  orgClaim: z.string().min(1).default('sluice_org'),
  /** Longest accepted lifetime of an access token: `exp` minus `iat` (or `nbf`), and `exp` minus now. */
  maxLifetimeSeconds: z.number().int().min(60).max(7 * 86_400).default(86_400),
  /** Only accept the RFC 9068 header `typ: at+jwt` (otherwise a missing `typ` or `JWT` is accepted too). */
  requireTyp: z.boolean().default(false),
});

/** The relay as its own authorization server (off unless present). */
const OAuthServerConfig = z.strictObject({
  accessTokenTtlSeconds: z.number().int().min(60).max(3600).default(600),
  refreshTokenTtlSeconds: z.number().int().min(3600).max(90 * 86_400).default(30 * 86_400),
  /** A dynamically registered client no admin approved is deleted after this long. */
  unusedClientTtlSeconds: z.number().int().min(60).max(30 * 86_400).default(86_400),
  /** Registrations one client IP may make per hour. */
  registrationsPerHour: z.number().int().min(1).max(10_000).default(20),
  /** How long an admin stays signed in on the consent page. */
  adminSessionTtlSeconds: z.number().int().min(60).max(86_400).default(3600),
  /** Sign-in attempts per admin name and per client IP per 15 minutes. */
  signInAttemptsPer15Min: z.number().int().min(1).max(1000).default(10),
});

export const RelayConfigSchema = z
  .strictObject({
    /** Public origin, e.g. `https://relay.example.com`; defaults to `http(s)://127.0.0.1:<bound port>`. */
    publicUrl: z.string().url().optional(),
    heartbeatMs: z.number().int().min(1000).max(300_000).default(15_000),
    helloTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(30_000),
    /** Long polls (`events.list` with waitMs, `steps.wait`, SSE follows) one caller may hold open at once. */
    maxWaitingCallsPerCaller: z.number().int().min(1).max(1000).default(16),
    /** How long the relay remembers an idempotent `steps.dispatch` (input hash and step id only). */
    dispatchAnswerTtlMs: z.number().int().min(1000).max(30 * 86_400_000).default(86_400_000),
    /** An open event stream re-checks its caller's token this often (revocations made by the CLI, expiry). */
    streamRecheckMs: z.number().int().min(100).max(60_000).default(5000),
    /** Refusals of one reason from one source are audited as one row (with a count) per this interval. */
    auditRefusalIntervalMs: z.number().int().min(1000).max(3_600_000).default(60_000),
    challengeTtlMs: z.number().int().min(1000).max(300_000).default(30_000),
    clockSkewMs: z.number().int().min(1000).max(600_000).default(60_000),
    enrollmentTtlMinutes: z.number().int().min(1).max(24 * 60).default(15),
    /** A request (headers and body) must arrive within this time, or the connection is cut (slow clients). */
    bodyTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    bodyLimit: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
    rateLimit: z.strictObject({ max: z.number().int().min(1), timeWindowMs: z.number().int().min(1000) }).default({ max: 600, timeWindowMs: 60_000 }),
    /** Browser origins allowed to call /api/v2 and /mcp besides the relay's own (none by default). */
    allowedOrigins: z.array(z.string().url()).max(50).default([]),
    oauth: OAuthConfig.optional(),
    oauthServer: OAuthServerConfig.optional(),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /** Which proxies may set X-Forwarded-For: false (none), a CIDR/address list, or a hop count. */
    trustProxy: z.union([z.literal(false), z.string().min(1), z.number().int().min(1).max(10)]).default(false),
  })
  .refine((c) => !c.oauth || c.oauth.jwksUrl !== undefined || c.oauth.jwks !== undefined, { message: 'oauth needs jwksUrl or jwks', path: ['oauth'] })
  .refine((c) => !(c.oauth && c.oauthServer), { message: 'oauth (an outside issuer) and oauthServer (the built-in one) exclude each other', path: ['oauthServer'] });

export type RelayConfigInput = z.input<typeof RelayConfigSchema>;
export type RelayConfig = Readonly<z.output<typeof RelayConfigSchema>>;

/** Parse and freeze the relay config; unknown keys are rejected. */
export function parseRelayConfig(input: RelayConfigInput): RelayConfig {
  return Object.freeze(RelayConfigSchema.parse(input));
}
