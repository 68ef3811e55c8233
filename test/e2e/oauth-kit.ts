// What the OAuth end-to-end and hostile tests share: a client metadata document server over HTTPS on loopback with
// a test CA, a stub resolver, an in-process stack whose relay is its own authorization server, a scripted MCP OAuth
// client and the consent an org admin gives over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { OAuthAdmin } from '@sluice/relay';
import type { Resolver } from '@sluice/relay';
import { PLANNER_SCOPES } from '@sluice/shared-protocol';
import { inputValue, makeTestCertificates, ScriptedBrowser } from '@sluice/test-kit';
import type { TestCertificates } from '@sluice/test-kit';
import { startInProcessStack } from '../hostile/in-process-stack.js';
import type { InProcessStack } from '../hostile/in-process-stack.js';

export const ADMIN_NAME = 'alice';
export const ADMIN_PASSWORD = 'correct horse battery staple';
/** Host names of the document server, each resolved by the stub resolver. */
export const DOC_HOSTS = { good: 'client.test', native: 'native.test', private: 'private.test', big: 'big.test', redirect: 'redirect.test', other: 'other.test' } as const;
/** Nothing listens there: the tests read the code off the redirect (the browser test answers it in the browser). */
export const REDIRECT_URI = 'http://127.0.0.1:47391/callback';

/** The client metadata documents (and misbehaving answers) the test server serves. */
export class DocumentServer {
  readonly requests: string[] = [];
  private server!: Server;
  port = 0;

  constructor(readonly certs: TestCertificates) {}

  async start(): Promise<this> {
    this.server = createServer({ cert: this.certs.cert, key: this.certs.key }, (req, res) => {
      const host = (req.headers.host ?? '').split(':')[0]!;
      this.requests.push(`${host}${req.url}`);
      if (host === DOC_HOSTS.redirect) {
        res.writeHead(302, { location: `https://${DOC_HOSTS.good}:${this.port}/landing.json` }).end();
      } else if (host === DOC_HOSTS.big) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...this.document(DOC_HOSTS.big), padding: 'x'.repeat(64 * 1024) }));
      } else if (host === DOC_HOSTS.other) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.document(DOC_HOSTS.good)));
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(JSON.stringify(this.document(host)));
      }
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(host: string): string {
    return `https://${host}:${this.port}/client.json`;
  }

  /** A web client (exact redirect URI), or on native.test a native one (loopback redirect, any port). */
  document(host: string): Record<string, unknown> {
    return {
      client_id: this.url(host),
      client_name: 'Test Planner',
      client_uri: `https://${host}`,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(host === DOC_HOSTS.native ? { application_type: 'native' } : {}),
    };
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Every name the relay resolved; private.test answers a private address no connection may go to. */
export function stubResolver(log: string[]): Resolver {
  return async (host) => {
    log.push(host);
    if (host === DOC_HOSTS.private) return [{ address: '10.20.30.40', family: 4 }];
    if ((Object.values(DOC_HOSTS) as string[]).includes(host)) return [{ address: '127.0.0.1', family: 4 }];
    throw new Error(`the stub resolver knows no ${host}`);
  };
}

export interface OAuthStack {
  stack: InProcessStack;
  docs: DocumentServer;
  resolved: string[];
  admin: OAuthAdmin;
  close(): Promise<void>;
}

/** The in-process stack with the built-in authorization server, an admin of org A, and the document server. */
export async function startOAuthStack(oauthServer: Record<string, number> = {}, deps: { now?: () => number } = {}): Promise<OAuthStack> {
  const certs = makeTestCertificates([...Object.values(DOC_HOSTS), 'localhost']);
  const docs = await new DocumentServer(certs).start();
  const resolved: string[] = [];
  const stack = await startInProcessStack({ relayConfig: { oauthServer }, relayDeps: { ...deps, clientDocumentFetch: { resolve: stubResolver(resolved), allowLoopback: true, ca: certs.ca } } });
  const admin = new OAuthAdmin(stack.relayStore, { instanceChanged: async () => ({ reached: false, why: 'test' }), credentialsRevoked: () => undefined });
  await admin.createAdminAccount({ name: ADMIN_NAME, password: ADMIN_PASSWORD, orgIds: [stack.orgA.orgId], scopes: [...PLANNER_SCOPES] }, { actor: 'local:test' });
  return {
    stack,
    docs,
    resolved,
    admin,
    async close() {
      await stack.close();
      await docs.close();
    },
  };
}

/** An MCP client's OAuth state, as the SDK asks for it; the authorization URL is kept for the test to open. */
export class ScriptedOAuthClient implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(
    readonly clientMetadataUrl: string | undefined,
    private readonly meta: OAuthClientMetadata = { client_name: 'Test Planner', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
  ) {}

  get redirectUrl(): string {
    return REDIRECT_URI;
  }
  get clientMetadata(): OAuthClientMetadata {
    return this.meta;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string): void {
    this.verifier = v;
  }
  codeVerifier(): string {
    return this.verifier;
  }
}

/** The answer at the end of the consent: the client's redirect URI with its query. */
export interface ConsentOutcome {
  redirect: URL;
  browser: ScriptedBrowser;
}

/** Open the authorization URL, sign in as the admin and approve what is preselected (or `form` overrides). */
export async function consentOverHttp(relayUrl: string, authorizationUrl: URL, orgId: string, form: Record<string, string | string[]> = {}, admin = { name: ADMIN_NAME, password: ADMIN_PASSWORD }): Promise<ConsentOutcome> {
  const browser = new ScriptedBrowser(relayUrl);
  const signInPage = await browser.open(authorizationUrl.href);
  if (signInPage.status !== 200) throw new Error(`the consent page answered ${signInPage.status}: ${signInPage.body.slice(0, 300)}`);
  const uid = /\/oauth\/consent\/([^/"]+)\/sign-in/.exec(signInPage.body)?.[1];
  if (!uid) throw new Error(`no sign-in form: ${signInPage.body.slice(0, 300)}`);
  const consentPage = await browser.submit(`/oauth/consent/${uid}/sign-in`, { csrf: inputValue(signInPage.body, 'csrf')!, name: admin.name, password: admin.password });
  if (!consentPage.body.includes('id="approve"')) throw new Error(`no consent form: ${consentPage.status} ${consentPage.body.slice(0, 300)}`);
  const scopes = [...consentPage.body.matchAll(/name="scope" value="([^"]+)" checked/g)].map((m) => m[1]!);
  const done = await browser.submit(`/oauth/consent/${uid}/decide`, { csrf: inputValue(consentPage.body, 'csrf')!, org: orgId, scope: scopes, decision: 'approve', ...form });
  if (!done.location) throw new Error(`the consent did not redirect: ${done.status} ${/id="error">([^<]*)/.exec(done.body)?.[1] ?? done.body.slice(0, 300)} (asked: ${/id="scopes-asked">([^<]*)/.exec(done.body)?.[1]})`);
  return { redirect: new URL(done.location), browser };
}

/** A connected MCP client with this OAuth state. */
export async function connectMcp(relayUrl: string, auth: ScriptedOAuthClient): Promise<Client> {
  const client = new Client({ name: 'sluice-oauth-e2e', version: '0.1.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${relayUrl}/mcp`), { authProvider: auth }));
  return client;
}

/** POST one JSON-RPC request to /mcp with a bearer token; the status and WWW-Authenticate header. */
export async function rawMcp(relayUrl: string, token: string): Promise<{ status: number; challenge: string | null }> {
  const res = await fetch(`${relayUrl}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await res.text();
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
}

/** A PKCE pair (S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization URL of the relay, with PKCE and resource unless overridden (null drops a parameter). */
export function authorizeUrl(relayUrl: string, params: Record<string, string | null>): URL {
  const url = new URL(`${relayUrl}/oauth/authorize`);
  const all: Record<string, string | null> = { response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'runs:read runs:write', resource: `${relayUrl}/mcp`, state: 'st', code_challenge_method: 'S256', ...params };
  for (const [k, v] of Object.entries(all)) if (v !== null) url.searchParams.set(k, v);
  return url;
}

/** POST a form to the token endpoint; the status and the JSON answer. */
export async function tokenRequest(relayUrl: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${relayUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Register a client by DCR; the status and the JSON answer. */
export async function register(relayUrl: string, metadata: Record<string, unknown> | string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${relayUrl}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof metadata === 'string' ? metadata : JSON.stringify(metadata) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}
