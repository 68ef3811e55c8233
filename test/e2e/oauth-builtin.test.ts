// The relay as its own OAuth authorization server, end to end with the MCP SDK client's OAuth support against a real
// relay, daemon and connector: 401 → protected-resource metadata → AS metadata → client metadata document (or DCR)
// → authorize with PKCE and resource → an org admin's consent over HTTP → code → token → tools → refresh → revoke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connectMcp, consentOverHttp, DOC_HOSTS, rawMcp, ScriptedOAuthClient, startOAuthStack } from './oauth-kit.js';
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
    expect(redirect.origin + redirect.pathname).toBe('http://127.0.0.1:9/callback');
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

    // Revoke the grant: every token of it is refused at once, with the OAuth challenge.
    await s.admin.revokeGrant(grant!.id, { actor: 'local:test' });
    const refused = await rawMcp(relayUrl, refreshed.access_token);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toContain('resource_metadata=');
    expect((await rawMcp(relayUrl, firstTokens.access_token)).status).toBe(401);
  }, 60_000);
});
