// The relay as its own OAuth authorization server, end to end with the MCP SDK client's OAuth support against a real
// relay, daemon and connector: 401 → protected-resource metadata → AS metadata → client metadata document (or DCR)
// → authorize with PKCE and resource → an org admin's consent over HTTP → code → token → tools → refresh → revoke.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelay, SqliteRelayStore } from '@sluice/relay';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectMcp, consentOverHttp, DOC_HOSTS, rawMcp, REDIRECT_URI, ScriptedOAuthClient, startOAuthStack } from './oauth-kit.js';
import type { OAuthStack } from './oauth-kit.js';

let s: OAuthStack;

beforeAll(async () => {
  s = await startOAuthStack();
}, 60_000);

afterAll(async () => {
  await s?.close();
});

describe.each([
  ['a client metadata document', () => new ScriptedOAuthClient(s.docs.url(DOC_HOSTS.good))],
  ['dynamic client registration', () => new ScriptedOAuthClient(undefined)],
])('an MCP client connects by OAuth with %s', (_how, makeClient) => {
  it('authorizes with an admin consent, calls tools, refreshes, and is refused once its grant is revoked', async () => {
    const relayUrl = s.stack.relayUrl;
    const client = makeClient();
    const first = new Client({ name: 'sluice-oauth-e2e', version: '0.1.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${relayUrl}/mcp`), { authProvider: client });
    await expect(first.connect(transport)).rejects.toThrow(UnauthorizedError);

    const authUrl = client.authorizationUrl!;
    expect(authUrl.origin + authUrl.pathname).toBe(`${relayUrl}/oauth/authorize`);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('resource')).toBe(`${relayUrl}/mcp`);
    if (client.clientMetadataUrl) expect(authUrl.searchParams.get('client_id')).toBe(client.clientMetadataUrl);
    else expect(client.info?.client_id).toBeTruthy();

    const { redirect } = await consentOverHttp(relayUrl, authUrl, s.stack.orgA.orgId);
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT_URI);
    expect(redirect.searchParams.get('iss')).toBe(relayUrl);
    expect(redirect.searchParams.get('error'), redirect.href).toBeNull();
    const code = redirect.searchParams.get('code')!;
    await transport.finishAuth(code);
    const firstTokens = client.saved!;
    expect(firstTokens.refresh_token).toBeTruthy();

    const mcp = await connectMcp(relayUrl, client);
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name)).toContain('runs_open');
    const opened = await mcp.callTool({ name: 'runs_open', arguments: { workspaceId: s.stack.workspaceId, title: `oauth ${_how}` } });
    expect(opened.isError).toBeFalsy();
    const runId = (opened.structuredContent as { runId: string }).runId;
    await mcp.close();

    const [grant] = (await s.admin.listGrants(s.stack.orgA.orgId)).filter((g) => g.revokedAt === null);
    expect(grant).toBeDefined();
    const actor = `oauth:${s.stack.orgA.orgId}/${grant!.id}`;
    const audit = await s.stack.relayStore.listAudit(s.stack.orgA.orgId, { limit: 1000 });
    const call = audit.find((r) => r.action === 'planner.call' && r.actor === actor && r.detail.includes('runs.open'));
    expect(JSON.parse(call!.detail)).toMatchObject({ clientId: grant!.clientId });
    const ledger = s.stack.daemon.store.db.prepare("SELECT actor FROM transitions WHERE entity_id = ? OR actor = ? LIMIT 1").get(runId, actor) as { actor: string } | undefined;
    expect(ledger?.actor).toBe(actor);

    // Refresh: a new access token and a rotated refresh token; the old access token still works until it expires.
    expect(await auth(client, { serverUrl: `${relayUrl}/mcp` })).toBe('AUTHORIZED');
    const refreshed = client.saved!;
    expect(refreshed.access_token).not.toBe(firstTokens.access_token);
    expect(refreshed.refresh_token).not.toBe(firstTokens.refresh_token);
    expect((await rawMcp(relayUrl, refreshed.access_token)).status).toBe(200);

    // Codes and tokens are kept by hash only: none of them is anywhere in the relay's database files.
    const files = readdirSync(s.stack.root).filter((f) => f.startsWith('relay.db'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(s.stack.root, f))));
    for (const secret of [code, firstTokens.access_token, firstTokens.refresh_token!, refreshed.access_token, refreshed.refresh_token!]) {
      expect(bytes.includes(Buffer.from(secret)), 'a secret in the database').toBe(false);
    }

    // Revoke the grant: every token of it is refused at once, with the OAuth challenge.
    await s.admin.revokeGrant(grant!.id, { actor: 'local:test' });
    const refused = await rawMcp(relayUrl, refreshed.access_token);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toContain('resource_metadata=');
    expect((await rawMcp(relayUrl, firstTokens.access_token)).status).toBe(401);
  }, 60_000);
});

describe('discovery', () => {
  it('the protected-resource metadata names the relay as issuer; the RFC 8414 metadata says what MCP clients need', async () => {
    const relayUrl = s.stack.relayUrl;
    const prm = (await (await fetch(`${relayUrl}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    expect(prm.authorization_servers).toEqual([relayUrl]);
    const res = await fetch(`${relayUrl}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const md = (await res.json()) as Record<string, unknown>;
    expect(md).toMatchObject({
      issuer: relayUrl,
      authorization_endpoint: `${relayUrl}/oauth/authorize`,
      token_endpoint: `${relayUrl}/oauth/token`,
      registration_endpoint: `${relayUrl}/oauth/register`,
      revocation_endpoint: `${relayUrl}/oauth/revoke`,
      client_id_metadata_document_supported: true,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      response_types_supported: ['code'],
    });
    expect(md.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('is off unless configured: no metadata, no endpoints, no issuer in the protected-resource metadata', async () => {
    const store = new SqliteRelayStore(join(s.stack.root, 'off.db'));
    const relay = await buildRelay({ store, logger: pino({ level: 'silent' }) });
    try {
      for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/oauth/authorize', '/oauth/register', '/oauth/consent/x']) {
        expect((await relay.app.inject({ method: url === '/oauth/register' ? 'POST' : 'GET', url })).statusCode, url).toBe(404);
      }
      const prm = (await relay.app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' })).json<Record<string, unknown>>();
      expect(prm.authorization_servers).toEqual([]);
    } finally {
      await relay.close();
      await store.close();
    }
  });
});
