// Hostile input on /mcp: raw JSON-RPC garbage over HTTP, and hostile tool arguments through the real MCP SDK client.
// Tool-level refusals are MCP results with isError (the transport answered); nothing may reach the daemon ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { RELAY_PATHS, VERBS } from '@sluice/shared-protocol';
import type { VerbName } from '@sluice/shared-protocol';
import { mcpToolCases } from './cases.js';
import { expectRefusal, recordCount } from './expect.js';
import { startInProcessStack } from './in-process-stack.js';
import type { InProcessStack } from './in-process-stack.js';

let s: InProcessStack;
let client: Client;

beforeAll(async () => {
  s = await startInProcessStack();
  client = new Client({ name: 'hostile', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${s.relayUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${s.orgA.token}` } } }));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await s?.close();
}, 30_000);

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function post(payload: string, headers: Record<string, string> = {}) {
  return s.relay.app.inject({ method: 'POST', url: RELAY_PATHS.mcp, headers: { authorization: `Bearer ${s.orgA.token}`, ...MCP_HEADERS, ...headers }, payload });
}

/** The JSON-RPC message in a response body (plain JSON or one SSE `data:` line). */
function rpc(body: string): { error?: { code: number; message: string }; result?: { isError?: boolean; content?: Array<{ text?: string }>; [k: string]: unknown } } {
  const line = body.split('\n').find((l) => l.startsWith('data: '));
  return JSON.parse(line ? line.slice(6) : body) as ReturnType<typeof rpc>;
}

describe('/mcp transport level', () => {
  it('malformed, wrong media type, oversized and unauthenticated requests are refused before any tool runs', async () => {
    const before = s.snapshot();
    const http: Array<[string, () => ReturnType<typeof post>, number, string]> = [
      ['no token', () => s.relay.app.inject({ method: 'POST', url: RELAY_PATHS.mcp, headers: MCP_HEADERS, payload: '{}' }), 401, 'UNAUTHENTICATED'],
      ['malformed json', () => post('{"jsonrpc":"2.0",'), 400, 'MALFORMED_JSON'],
      ['proto key', () => post('{"jsonrpc":"2.0","id":1,"method":"tools/list","__proto__":{"x":1}}'), 400, 'MALFORMED_JSON'],
      ['oversized', () => post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(s.relay.config.bodyLimit) } })), 413, 'PAYLOAD_TOO_LARGE'],
      ['form body', () => post('a=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['GET stream', () => s.relay.app.inject({ method: 'GET', url: RELAY_PATHS.mcp, headers: { authorization: `Bearer ${s.orgA.token}` } }), 405, 'METHOD_NOT_ALLOWED'],
      ['DELETE session', () => s.relay.app.inject({ method: 'DELETE', url: RELAY_PATHS.mcp, headers: { authorization: `Bearer ${s.orgA.token}` } }), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [label, send, status, code] of http) expectRefusal(await send(), label, { status, code });
    // JSON that is not JSON-RPC: the SDK transport answers with a JSON-RPC error, never a tool call.
    const jsonRpc: Array<[string, string]> = [
      ['array of garbage', '[1,2,3]'],
      ['wrong version', '{"jsonrpc":"1.0","id":1,"method":"tools/list"}'],
      ['unknown method', '{"jsonrpc":"2.0","id":1,"method":"shell/exec","params":{}}'],
      ['call unknown tool', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"__proto__","arguments":{}}}'],
      ['call with array args', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"runs_open","arguments":["web"]}}'],
      ['null', 'null'],
    ];
    for (const [label, payload] of jsonRpc) {
      const res = await post(payload);
      expect(res.statusCode, label).toBeLessThan(500);
      const m = res.body ? rpc(res.body) : {};
      const refused = (m.error !== undefined && m.error.code < 0) || m.result?.isError === true || res.statusCode >= 400;
      expect(refused, `${label}: ${res.statusCode} ${res.body.slice(0, 200)}`).toBe(true);
    }
    expect(s.snapshot()).toEqual(before);
    recordCount('mcp.transport', http.length + jsonRpc.length);
  });
});

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'hostile', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const MODERN = (method: string, name?: string): Record<string, string> => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });
const call = (name: string, args: Record<string, unknown>, meta: Record<string, unknown> = ENVELOPE) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args, _meta: meta } });
const request = (method: string, params: Record<string, unknown> = {}, meta: Record<string, unknown> = ENVELOPE) => ({ jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: meta } });

describe('/mcp 2026-07-28: headers against the body, the envelope, removed methods', () => {
  it('every disagreement or missing piece is a JSON-RPC error with the spec code, and nothing reaches the daemon', async () => {
    const before = s.snapshot();
    const runId = 'run_0123456789ABCDEFGHJKMNPQRS';
    const abort = { runId, reason: 'hostile' };
    // [label, headers, body, HTTP status, JSON-RPC error code]
    const cases: Array<[string, Record<string, string>, unknown, number, number]> = [
      ['Mcp-Method names another method', MODERN('tools/list'), call('runs_abort', abort), 400, -32020],
      ['Mcp-Method says list, body calls', MODERN('tools/call', 'runs_list'), request('tools/list'), 400, -32020],
      ['Mcp-Name names a harmless tool', MODERN('tools/call', 'runs_list'), call('runs_abort', abort), 400, -32020],
      ['Mcp-Name in Base64 names another tool', MODERN('tools/call', `=?base64?${Buffer.from('runs_list').toString('base64')}?=`), call('runs_abort', abort), 400, -32020],
      ['Mcp-Name with a bad Base64 sentinel', MODERN('tools/call', '=?base64?!!!?='), call('runs_abort', abort), 400, -32020],
      ['Mcp-Name missing on tools/call', MODERN('tools/call'), call('runs_abort', abort), 400, -32020],
      ['Mcp-Method missing', { 'mcp-protocol-version': '2026-07-28' }, call('runs_abort', abort), 400, -32020],
      ['Mcp-Name with a suffix', MODERN('tools/call', 'runs_abort extra'), call('runs_abort', abort), 400, -32020],
      ['resources/read Mcp-Name names another uri', MODERN('resources/read', 'sluice://other'), request('resources/read', { uri: 'sluice://guide/planner' }), 400, -32020],
      ['header names the version, body has no envelope', MODERN('tools/list'), { jsonrpc: '2.0', id: 7, method: 'tools/list' }, 400, -32602],
      ['envelope names 2025-11-25 under a 2026-07-28 header', MODERN('tools/list'), request('tools/list', {}, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' }), 400, -32020],
      ['envelope and header name an unknown version', { ...MODERN('tools/list'), 'mcp-protocol-version': '2099-01-01' }, request('tools/list', {}, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }), 400, -32022],
      ['envelope clientInfo is a string', MODERN('server/discover'), request('server/discover', {}, { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': 'me' }), 400, -32602],
      ['server/discover without the envelope', MODERN('server/discover'), { jsonrpc: '2.0', id: 7, method: 'server/discover' }, 400, -32602],
      ['initialize in the 2026-07-28 era', MODERN('initialize'), request('initialize', { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 'x', version: '1' } }), 404, -32601],
      ['ping was removed', MODERN('ping'), request('ping'), 404, -32601],
      ['logging/setLevel was removed', MODERN('logging/setLevel'), request('logging/setLevel', { level: 'debug' }), 404, -32601],
      ['subscriptions/listen is not offered', MODERN('subscriptions/listen'), request('subscriptions/listen', { notifications: { toolsListChanged: true } }), 200, -32601],
      ['a posted result with a bogus resultType', MODERN('tools/list'), { jsonrpc: '2.0', id: 7, result: { resultType: 'bogus' } }, 400, -32000],
      ['2025 era: subscriptions/listen', { 'mcp-protocol-version': '2025-11-25' }, { jsonrpc: '2.0', id: 7, method: 'subscriptions/listen', params: {} }, 200, -32601],
      ['2025 era: Mcp-Method disagrees with the body', { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'runs_abort', arguments: abort } }, 400, -32020],
      ['2025 era: Mcp-Name disagrees with the body', { 'mcp-protocol-version': '2025-11-25', 'mcp-name': 'runs_list' }, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'runs_abort', arguments: abort } }, 400, -32020],
    ];
    for (const [label, headers, body, status, code] of cases) {
      const res = await post(JSON.stringify(body), headers);
      expect(res.statusCode, `${label}: ${res.body.slice(0, 300)}`).toBe(status);
      expect(rpc(res.body).error?.code, `${label}: ${res.body.slice(0, 300)}`).toBe(code);
    }
    expect(s.snapshot()).toEqual(before);
    // The same requests with agreeing headers are served.
    const ok = await post(JSON.stringify(request('server/discover')), MODERN('server/discover'));
    expect(rpc(ok.body).result).toMatchObject({ supportedVersions: ['2026-07-28'], resultType: 'complete' });
    recordCount('mcp.modern', cases.length);
  });
});

describe('/mcp tools through the real SDK client', () => {
  it('hostile arguments to every tool come back as isError with a catalog code, and nothing is written', async () => {
    const before = s.snapshot();
    const cases = mcpToolCases();
    let n = 0;
    for (const c of cases) {
      const tool = VERBS[c.verb as VerbName].mcpName;
      const out = await client.callTool({ name: tool, arguments: c.body as Record<string, unknown> }).catch((e: unknown) => ({ isError: true, content: [{ type: 'text', text: String(e) }] }));
      const text = (out.content as Array<{ text?: string }>)[0]?.text ?? '';
      expect(out.isError, `${tool} ${c.label}: ${text.slice(0, 200)}`).toBe(true);
      expect(text, `${tool} ${c.label}`).toMatch(/^\{"code":"INVALID_INPUT"|MALFORMED_JSON/);
      n++;
    }
    expect(s.snapshot()).toEqual(before);
    // Still serving a good tool call.
    const ok = await client.callTool({ name: 'runs_list', arguments: {} });
    expect(ok.isError).toBeFalsy();
    recordCount('mcp.tools', n);
  }, 120_000);
});
