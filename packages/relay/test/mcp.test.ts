import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { VERBS } from '@sluice/shared-protocol';
import { fakeId, PLANNER_SCOPES } from '@sluice/test-kit';
import type { FakeConnector } from '@sluice/test-kit';
import { callVerb, connectedConnector, fakeRun, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

async function mcpClient(url: string, bearer: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } });
  const client = new Client({ name: 'relay-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('/mcp with a real MCP SDK client', () => {
  let t: TestRelay;
  let a: Awaited<ReturnType<typeof orgWithToken>>;
  let c: FakeConnector;
  const clients: Client[] = [];
  beforeEach(async () => {
    t = await startRelay();
    a = await orgWithToken(t.store, 'org-a', PLANNER_SCOPES);
    c = await connectedConnector(t, a.org.id);
    c.handlers['runs.open'] = (input) => ({ ...fakeRun(fakeId('run'), input.workspaceId as string), unknownKey: 1 });
  });
  afterEach(async () => {
    for (const cl of clients.splice(0)) await cl.close();
    c.close();
    await t.close();
  });

  it('lists exactly the verb table as tools, with annotations and output schemas', async () => {
    const client = await mcpClient(t.url, a.token);
    clients.push(client);
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(Object.values(VERBS).map((v) => v.mcpName).sort());
    const abort = tools.find((x) => x.name === 'runs_abort')!;
    expect(abort.annotations).toEqual({ title: 'Abort a run', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false });
    expect(abort.outputSchema?.type).toBe('object');
    expect(tools.find((x) => x.name === 'events_list')?.annotations?.readOnlyHint).toBe(true);
  });

  it('calls a tool through to the connector and returns structured content equal to the text block', async () => {
    const client = await mcpClient(t.url, a.token);
    clients.push(client);
    const res = await client.callTool({ name: 'runs_open', arguments: { workspaceId: 'ws1' } });
    expect(res.isError).toBeFalsy();
    const sc = res.structuredContent as { runId: string };
    expect(sc.runId).toMatch(/^run_/);
    expect(sc).not.toHaveProperty('unknownKey');
    expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual(sc);
    expect(c.requests[0]).toMatchObject({ verb: 'runs.open', actor: `planner:${a.org.id}/${a.tokenId}` });
    // An unknown tool is a protocol error (the spec's -32602), not a tool result.
    await expect(client.callTool({ name: 'shell_exec', arguments: { cmd: 'id' } })).rejects.toThrow(/-32602.*shell_exec/);
    expect(c.requests).toHaveLength(1);
    const rows = t.store.db.prepare("SELECT detail FROM audit WHERE action = 'planner.call'").all() as { detail: string }[];
    expect(rows.some((r) => r.detail.includes('"via":"mcp"'))).toBe(true);
  });

  it("passes a daemon error's allowed values and hint through unchanged, to /api/v2 and to MCP", async () => {
    const error = { code: 'ATTEMPT_CHOICE_REQUIRED', message: 'Several attempts passed.', hint: 'Name one of allowed.', retryable: false, allowed: [fakeId('att'), fakeId('att')] };
    const gateId = fakeId('gat');
    await t.store.recordOwner(a.org.id, gateId, c.instanceId);
    c.handlers['gates.approve'] = (_input, f) => ({ raw: JSON.stringify({ type: 'response', id: f.id, ok: false, error }) });
    const viaHttp = await callVerb(t.url, a.token, 'gates.approve', { gateId });
    expect(viaHttp.status).toBe(400);
    expect(viaHttp.body).toEqual(error);
    const client = await mcpClient(t.url, a.token);
    clients.push(client);
    const res = await client.callTool({ name: 'gates_approve', arguments: { gateId } });
    expect(res.isError).toBe(true);
    expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual(error);
  });

  it('a token lacking the scope gets a clear insufficient-scope error and nothing reaches the connector', async () => {
    const ro = (await t.store.createToken({ orgId: a.org.id, name: 'ro', scopes: ['runs:read'] })).secret;
    const client = await mcpClient(t.url, ro);
    clients.push(client);
    const res = await client.callTool({ name: 'runs_open', arguments: { workspaceId: 'ws1' } });
    expect(res.isError).toBe(true);
    const body = JSON.parse((res.content as { text: string }[])[0]!.text) as { code: string; message: string; hint: string; retryable: boolean };
    expect(body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', message: expect.stringMatching(/runs:write/) as string, retryable: false });
    expect(body.hint).toMatch(/scope/);
    expect(res.structuredContent).toBeUndefined();
    expect(res._meta?.['dev.sluice/error']).toEqual(body);
    expect(c.requests).toHaveLength(0);
  });

  it('without a token: 401 with the resource metadata URL; metadata served; other .well-known paths 404; GET /mcp 405 after auth', async () => {
    const res = await fetch(`${t.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(res.status).toBe(401);
    const prm = `${t.url}/.well-known/oauth-protected-resource/mcp`;
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${prm}"`);
    const meta = (await (await fetch(prm)).json()) as { resource: string; scopes_supported: string[] };
    expect(meta.resource).toBe(`${t.url}/mcp`);
    expect(meta.scopes_supported).toContain('runs:write');
    expect((await fetch(`${t.url}/.well-known/oauth-protected-resource`)).status).toBe(200);
    expect((await fetch(`${t.url}/.well-known/oauth-authorization-server`)).status).toBe(404);
    expect((await fetch(`${t.url}/mcp`)).status).toBe(401);
    const get = await fetch(`${t.url}/mcp`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const del = await fetch(`${t.url}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${a.token}` } });
    expect(del.status).toBe(405);
    await expect(mcpClient(t.url, 'slc_pat_nope')).rejects.toThrow();
  });
});

describe('/mcp with JWT access tokens from an external issuer', () => {
  let jwksServer: Server;
  let t: TestRelay;
  afterEach(async () => {
    await t.close();
    await new Promise((r) => jwksServer.close(r));
  });

  it('accepts a valid JWT (JWKS on loopback), maps org and scopes, refuses wrong audience, expired and foreign keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    const issuer = 'https://idp.example.com';
    t = await startRelay({ publicUrl: 'http://relay.test', oauth: { issuer, jwksUrl } });
    const org = await t.store.createOrg('org-jwt');
    const c = await connectedConnector(t, org.id);
    c.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
    const mint = (claims: Record<string, unknown>, opts: { aud?: string; exp?: string; key?: typeof privateKey } = {}) =>
      new SignJWT({ sluice_org: org.id, scope: 'runs:read runs:write', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setSubject('user-42')
        .setAudience(opts.aud ?? 'http://relay.test/mcp')
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '5m')
        .sign(opts.key ?? privateKey);

    const good = await mint({});
    const client = await mcpClient(t.url, good);
    const res = await client.callTool({ name: 'runs_open', arguments: { workspaceId: 'ws1' } });
    expect(res.isError).toBeFalsy();
    expect(c.requests[0]?.actor).toBe('oauth:idp.example.com/user-42');
    const denied = await client.callTool({ name: 'runs_abort', arguments: { runId: (res.structuredContent as { runId: string }).runId } });
    expect(JSON.parse((denied.content as { text: string }[])[0]!.text)).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    await client.close();

    const post = (jwt: string) =>
      fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    expect((await post(await mint({}, { aud: 'http://elsewhere/mcp' }))).status).toBe(401);
    const expired = await post(await mint({}, { exp: new Date(Date.now() - 60_000) as unknown as string }));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: string }).code).toBe('TOKEN_EXPIRED');
    const other = (await generateKeyPair('ES256')).privateKey;
    expect((await post(await mint({}, { key: other }))).status).toBe(401);
    expect((await post(await mint({ sluice_org: 'org_01JD0000000000000000000000' }))).status).toBe(401);
    c.close();
  });
});
