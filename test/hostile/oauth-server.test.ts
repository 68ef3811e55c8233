// The built-in authorization server under hostile input: every refusal is a standard OAuth error (or the relay's
// catalog code at the resource), is audited, and writes nothing; reuse of a code or refresh token revokes its grant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayVerbPath } from '@sluice/shared-protocol';
import { waitUntil } from '@sluice/test-kit';
import { inputValue, ScriptedBrowser, untouched } from './oauth-server-kit.js';
import { authorizeUrl, consentOverHttp, DOC_HOSTS, pkce, rawMcp, REDIRECT_URI, register, startOAuthStack, tokenRequest } from '../e2e/oauth-kit.js';
import type { OAuthStack } from '../e2e/oauth-kit.js';
import { expectRefusal, recordCount } from './expect.js';

let s: OAuthStack;
let relayUrl: string;
let dcrClientId: string;
const clock = { skewMs: 0 };

beforeAll(async () => {
  s = await startOAuthStack({ registrationsPerHour: 40 }, { now: () => Date.now() + clock.skewMs });
  relayUrl = s.stack.relayUrl;
  const reg = await register(relayUrl, { client_name: 'Hostile DCR', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] });
  expect(reg.status).toBe(201);
  dcrClientId = String(reg.body.client_id);
  await s.admin.createAdminAccount({ ...BOB, orgIds: [s.stack.orgB.orgId], scopes: ['runs:read', 'runs:write'] }, { actor: 'local:test' });
}, 60_000);

afterAll(async () => {
  await s?.close();
});

/** The audit rows the authorization server and the consent pages wrote for refusals. */
function refusalRows(action: string, outcome: string): number {
  return (s.stack.relayStore.db.prepare('SELECT count(*) AS n FROM audit WHERE action = ? AND outcome = ?').get(action, outcome) as { n: number }).n;
}

/** An approved authorization: its code, verifier and client. */
const BOB = { name: 'bob', password: 'another long passphrase' };

async function approvedCode(clientId: string, orgId = s.stack.orgA.orgId, admin?: typeof BOB) {
  const p = pkce();
  const { redirect } = await consentOverHttp(relayUrl, authorizeUrl(relayUrl, { client_id: clientId, code_challenge: p.challenge }), orgId, {}, admin);
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code: ${redirect.href}`);
  return { code, verifier: p.verifier, clientId };
}

function exchange(c: { code: string; verifier: string; clientId: string }, over: Record<string, string> = {}) {
  return tokenRequest(relayUrl, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, client_id: c.clientId, redirect_uri: REDIRECT_URI, resource: `${relayUrl}/mcp`, ...over });
}

describe('the authorization endpoint refuses bad requests before any consent', () => {
  it('wrong redirect URIs, PKCE missing or plain, foreign resource, and bad client metadata documents', async () => {
    const before = untouched(s);
    const p = pkce();
    const docUrl = (host: string) => s.docs.url(host);
    const cases: Array<[string, Record<string, string | null>, string, string]> = [
      ['unregistered redirect URI (DCR)', { client_id: dcrClientId, code_challenge: p.challenge, redirect_uri: 'https://evil.example/cb' }, 'invalid_redirect_uri', 'oauth.authorize'],
      ['redirect URI not in the document', { client_id: docUrl(DOC_HOSTS.good), code_challenge: p.challenge, redirect_uri: 'http://127.0.0.1:47391/other' }, 'invalid_redirect_uri', 'oauth.authorize'],
      ['loopback redirect URI on another port (web client)', { client_id: docUrl(DOC_HOSTS.good), code_challenge: p.challenge, redirect_uri: 'http://127.0.0.1:47392/callback' }, 'invalid_redirect_uri', 'oauth.authorize'],
      ['redirect URI differs by a trailing slash', { client_id: dcrClientId, code_challenge: p.challenge, redirect_uri: `${REDIRECT_URI}/` }, 'invalid_redirect_uri', 'oauth.authorize'],
      ['no PKCE challenge', { client_id: dcrClientId, code_challenge: null }, 'invalid_request', 'oauth.authorize'],
      ['PKCE method plain', { client_id: dcrClientId, code_challenge: p.verifier, code_challenge_method: 'plain' }, 'invalid_request', 'oauth.authorize'],
      ['resource of another server', { client_id: dcrClientId, code_challenge: p.challenge, resource: 'https://other.example/mcp' }, 'invalid_target', 'oauth.authorize'],
      ['unknown client', { client_id: 'nobody', code_challenge: p.challenge }, 'invalid_client', 'oauth.authorize'],
      ['document on a host resolving to a private address', { client_id: docUrl(DOC_HOSTS.private), code_challenge: p.challenge }, 'invalid_client', 'oauth.authorize'],
      ['document larger than the bound', { client_id: docUrl(DOC_HOSTS.big), code_challenge: p.challenge }, 'invalid_client', 'oauth.authorize'],
      ['document answering a redirect', { client_id: docUrl(DOC_HOSTS.redirect), code_challenge: p.challenge }, 'invalid_client', 'oauth.authorize'],
      ['document whose client_id differs from its URL', { client_id: docUrl(DOC_HOSTS.other), code_challenge: p.challenge }, 'invalid_client_metadata', 'oauth.authorize'],
      ['document URL over http', { client_id: `http://${DOC_HOSTS.good}:${s.docs.port}/client.json`, code_challenge: p.challenge }, 'invalid_client', 'oauth.authorize'],
    ];
    for (const [label, params, error, action] of cases) {
      const res = await fetch(authorizeUrl(relayUrl, params), { redirect: 'manual' });
      const location = res.headers.get('location');
      const got = location ? new URL(location).searchParams.get('error') : (await res.text()).split(':')[0];
      expect(got, label).toBe(error);
      if (location) expect(new URL(location).origin + new URL(location).pathname, `${label}: only to a registered redirect URI`).toBe(REDIRECT_URI);
      else expect(res.status, label).toBe(400);
      expect(refusalRows(action, error), `${label}: audited`).toBeGreaterThan(0);
    }
    // No connection ever went to the private address, and the redirect was not followed.
    expect(s.resolved).toContain(DOC_HOSTS.private);
    expect(s.docs.requests.filter((r) => r.startsWith(DOC_HOSTS.private))).toEqual([]);
    expect(s.docs.requests.filter((r) => r.endsWith('/landing.json'))).toEqual([]);
    expect(untouched(s)).toEqual(before);
    recordCount('relay.oauthServer.authorize', cases.length);
  });
});

describe('the token endpoint', () => {
  it('refuses a wrong or missing verifier, another redirect URI or resource, and a second use of a code (revoking its grant)', async () => {
    const c = await approvedCode(dcrClientId);
    const before = untouched(s);
    const cases: Array<[string, Record<string, string>, string]> = [
      ['wrong PKCE verifier', { code_verifier: pkce().verifier }, 'invalid_grant'],
      ['missing PKCE verifier', { code_verifier: '' }, 'invalid_grant'],
      ['another redirect URI', { redirect_uri: 'http://127.0.0.1:47391/other' }, 'invalid_grant'],
      ['another client', { client_id: s.docs.url(DOC_HOSTS.good) }, 'invalid_grant'],
    ];
    for (const [label, over, error] of cases) {
      const res = await exchange(c, over);
      expect(`${res.status} ${String(res.body.error)}`, label).toBe(`400 ${error}`);
      expect(refusalRows('oauth.token', error), `${label}: audited`).toBeGreaterThan(0);
    }
    expect(untouched(s)).toEqual(before);

    const ok = await exchange(c);
    expect(ok.status).toBe(200);
    const access = String(ok.body.access_token);
    expect((await rawMcp(relayUrl, access)).status).toBe(200);
    const again = await exchange(c);
    expect(`${again.status} ${String(again.body.error)}`, 'code used twice').toBe('400 invalid_grant');
    expect((await rawMcp(relayUrl, access)).status, 'the grant of a reused code is revoked').toBe(401);

    // A foreign resource at the token endpoint is refused; the code is spent by the attempt (it fails closed).
    const other = await approvedCode(dcrClientId);
    const foreign = await exchange(other, { resource: 'https://other.example/mcp' });
    expect(`${foreign.status} ${String(foreign.body.error)}`, 'resource of another server').toBe('400 invalid_target');
    expect((await exchange(other)).status, 'the code is spent').toBe(400);
    recordCount('relay.oauthServer.token', cases.length + 2);
  });

  it('a reused refresh token revokes the grant: the rotated tokens stop working too', async () => {
    const c = await approvedCode(dcrClientId);
    const first = await exchange(c);
    const refresh = { grant_type: 'refresh_token', client_id: dcrClientId, resource: `${relayUrl}/mcp` };
    const second = await tokenRequest(relayUrl, { ...refresh, refresh_token: String(first.body.refresh_token) });
    expect(second.status).toBe(200);
    const reuse = await tokenRequest(relayUrl, { ...refresh, refresh_token: String(first.body.refresh_token) });
    expect(`${reuse.status} ${String(reuse.body.error)}`).toBe('400 invalid_grant');
    expect((await rawMcp(relayUrl, String(second.body.access_token))).status).toBe(401);
    const rotated = await tokenRequest(relayUrl, { ...refresh, refresh_token: String(second.body.refresh_token) });
    expect(rotated.status).toBe(400);
    const grants = await s.admin.listGrants(s.stack.orgA.orgId);
    expect(grants.filter((g) => g.revokedAt !== null).length).toBeGreaterThan(0);
    expect(refusalRows('oauth.grant_revoke', 'ok')).toBeGreaterThan(0);
    recordCount('relay.oauthServer.refresh', 1);
  });

  it('a client revoking its refresh token (RFC 7009) ends the grant; its access token is refused', async () => {
    const t = await exchange(await approvedCode(dcrClientId));
    expect((await rawMcp(relayUrl, String(t.body.access_token))).status).toBe(200);
    const res = await fetch(`${relayUrl}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: String(t.body.refresh_token), token_type_hint: 'refresh_token', client_id: dcrClientId }).toString() });
    expect(res.status).toBe(200);
    await waitUntil(async () => (await rawMcp(relayUrl, String(t.body.access_token))).status === 401, { what: 'the access token refused' });
  });
});

describe('the resource', () => {
  it('refuses an expired access token, and a token of org A cannot reach org B ids', async () => {
    const verb = (token: string, name: Parameters<typeof relayVerbPath>[0], input: unknown) =>
      fetch(`${relayUrl}${relayVerbPath(name)}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
    const access = String((await exchange(await approvedCode(dcrClientId))).body.access_token);
    const accessB = String((await exchange(await approvedCode(dcrClientId, s.stack.orgB.orgId, BOB))).body.access_token);
    const opened = await verb(access, 'runs.open', { workspaceId: s.stack.workspaceId, title: 'org A' });
    expect(opened.status).toBe(200);
    const { runId } = (await opened.json()) as { runId: string };
    const before = untouched(s);
    const cross = await verb(accessB, 'runs.get', { runId });
    expectRefusal({ statusCode: cross.status, body: await cross.text() }, 'org B token, org A run id', { status: 404, code: 'RUN_NOT_FOUND' });
    const listed = await verb(accessB, 'instances.list', {});
    expect(JSON.stringify(await listed.json())).not.toContain(s.stack.instanceId);
    clock.skewMs = 3_600_000;
    try {
      const expired = await fetch(`${relayUrl}${relayVerbPath('instances.list')}`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{}' });
      expectRefusal({ statusCode: expired.status, body: await expired.text() }, 'expired access token', { status: 401, code: 'TOKEN_EXPIRED' });
    } finally {
      clock.skewMs = 0;
    }
    expect(untouched(s)).toEqual(before);
    recordCount('relay.oauthServer.resource', 2);
  });
});

describe('the consent pages', () => {
  it('refuse a decision without a signed-in admin, a forged CSRF token, a wrong password, scopes or orgs beyond the admin', async () => {
    const p = pkce();
    const browser = new ScriptedBrowser(relayUrl);
    const page = await browser.open(authorizeUrl(relayUrl, { client_id: dcrClientId, code_challenge: p.challenge, scope: 'runs:read admin' }).href);
    const uid = /\/oauth\/consent\/([^/"]+)\/sign-in/.exec(page.body)![1]!;
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const signInCsrf = inputValue(page.body, 'csrf')!;
    const before = untouched(s);

    const noAdmin = await browser.submit(`/oauth/consent/${uid}/decide`, { csrf: signInCsrf, org: s.stack.orgA.orgId, scope: 'runs:read', decision: 'approve' });
    expect(noAdmin.status, 'decision without a signed-in admin').toBe(401);
    const wrongPassword = await browser.submit(`/oauth/consent/${uid}/sign-in`, { csrf: signInCsrf, name: 'alice', password: 'not the password' });
    expect(wrongPassword.status, 'wrong password').toBe(401);
    const forgedSignIn = await browser.submit(`/oauth/consent/${uid}/sign-in`, { csrf: 'forged', name: 'alice', password: 'correct horse battery staple' });
    expect(forgedSignIn.status, 'sign-in with a forged CSRF token').toBe(403);
    expect(browser.cookie('sluice_admin'), 'no session from refused sign-ins').toBeUndefined();

    expect(untouched(s)).toEqual(before);

    const consent = await browser.submit(`/oauth/consent/${uid}/sign-in`, { csrf: signInCsrf, name: 'alice', password: 'correct horse battery staple' });
    expect(consent.body).toContain('Not yours to grant: <code>admin</code>');
    const csrf = inputValue(consent.body, 'csrf')!;
    const afterSignIn = untouched(s);
    const refusals: Array<[string, Record<string, string | string[]>, number]> = [
      ['CSRF token of the sign-in form', { csrf: signInCsrf, org: s.stack.orgA.orgId, scope: 'runs:read', decision: 'approve' }, 403],
      ['no CSRF token', { org: s.stack.orgA.orgId, scope: 'runs:read', decision: 'approve' }, 403],
      ['a scope beyond the admin', { csrf, org: s.stack.orgA.orgId, scope: ['runs:read', 'admin'], decision: 'approve' }, 403],
      ['another org', { csrf, org: s.stack.orgB.orgId, scope: 'runs:read', decision: 'approve' }, 403],
      ['no scope', { csrf, org: s.stack.orgA.orgId, decision: 'approve' }, 400],
      ['an instance of another org', { csrf, org: s.stack.orgA.orgId, scope: 'runs:read', instance: 'ins_01JAAAAAAAAAAAAAAAAAAAAAAA', decision: 'approve' }, 404],
    ];
    for (const [label, form, status] of refusals) {
      const res = await browser.submit(`/oauth/consent/${uid}/decide`, form);
      expect(res.status, label).toBe(status);
      expect(res.location, `${label}: no code`).toBeUndefined();
    }
    // A cross-site form post carries no cookie (SameSite=Lax): the same forged request from elsewhere.
    const crossSite = await fetch(`${relayUrl}/oauth/consent/${uid}/decide`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, org: s.stack.orgA.orgId, scope: 'runs:read', decision: 'approve' }).toString(), redirect: 'manual' });
    expect(crossSite.status, 'cross-site post without the session cookie').toBe(401);
    expect(untouched(s)).toEqual(afterSignIn);
    expect(refusalRows('oauth.consent', 'CSRF')).toBeGreaterThan(0);
    expect(refusalRows('oauth.consent', 'UNAUTHENTICATED')).toBeGreaterThan(0);
    expect(refusalRows('oauth.admin_sign_in', 'UNAUTHENTICATED')).toBeGreaterThan(0);
    recordCount('relay.oauthServer.consent', 3 + refusals.length + 1);
  });
});

describe('dynamic client registration', () => {
  it('refuses unsafe or unbounded metadata and confidential clients', async () => {
    const before = untouched(s);
    const base = { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' };
    const cases: Array<[string, Record<string, unknown> | string, string]> = [
      ['http redirect URI off loopback', { ...base, redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri'],
      ['redirect URI with a fragment', { ...base, redirect_uris: ['https://ok.example/cb#x'] }, 'invalid_redirect_uri'],
      ['custom scheme redirect URI', { ...base, redirect_uris: ['javascript://x/%0aalert(1)'] }, 'invalid_redirect_uri'],
      ['too many redirect URIs', { ...base, redirect_uris: Array.from({ length: 11 }, (_, i) => `https://ok.example/cb${i}`) }, 'invalid_client_metadata'],
      ['client name too long', { ...base, client_name: 'x'.repeat(201) }, 'invalid_client_metadata'],
      ['a client secret method', { ...base, token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
      ['implicit response type', { ...base, response_types: ['token'] }, 'invalid_client_metadata'],
      ['no redirect URI', { token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri'],
      ['body over 56 KiB', JSON.stringify({ ...base, client_name: 'x'.repeat(60 * 1024) }), 'invalid_request'],
      ['not JSON', '{"redirect_uris":', 'invalid_request'],
    ];
    for (const [label, metadata, error] of cases) {
      const res = await register(relayUrl, metadata);
      expect(`${res.status} ${String(res.body.error)}`, label).toBe(`400 ${error}`);
      expect(refusalRows('oauth.register', error), `${label}: audited`).toBeGreaterThan(0);
    }
    expect(untouched(s)).toEqual(before);
    recordCount('relay.oauthServer.register', cases.length);
  });
});
