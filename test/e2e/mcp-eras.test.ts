// Both MCP eras at /mcp against a real stack (daemon, connector, relay): a 1.x SDK Client negotiates 2025-11-25
// with `initialize`, a 2.x SDK Client is pinned to 2026-07-28 (`server/discover`, stateless). They see the same tools
// and reach the same daemon; a refused call reads the same code and hint in both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { ERROR_CATALOG, VERBS } from '@sluice/shared-protocol';
import type { ErrorBody, VerbSpec } from '@sluice/shared-protocol';
import { startInProcessStack } from '../hostile/in-process-stack.js';
import type { InProcessStack } from '../hostile/in-process-stack.js';

let s: InProcessStack;
let legacy: LegacyClient;
let modern: ModernClient;

interface ToolResult {
  isError?: boolean;
  content?: unknown;
  structuredContent?: unknown;
  _meta?: Record<string, unknown>;
}

beforeAll(async () => {
  s = await startInProcessStack();
  const url = new URL(`${s.relayUrl}/mcp`);
  const requestInit = { headers: { authorization: `Bearer ${s.orgA.token}` } };
  legacy = new LegacyClient({ name: 'era-2025', version: '1.0.0' });
  await legacy.connect(new LegacyTransport(url, { requestInit }));
  modern = new ModernClient({ name: 'era-2026', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modern.connect(new ModernTransport(url, { requestInit }));
}, 60_000);

afterAll(async () => {
  await legacy?.close();
  await modern?.close();
  await s?.close();
}, 30_000);

/** The error body of a refused call, from the JSON text block and from `_meta` (they must agree). */
function refusal(res: ToolResult): ErrorBody {
  expect(res.isError).toBe(true);
  expect(res.structuredContent).toBeUndefined();
  const text = (res.content as Array<{ type: string; text: string }>)[0]!.text;
  const body = JSON.parse(text) as ErrorBody;
  expect(res._meta?.['dev.sluice/error']).toEqual(body);
  return body;
}

describe('MCP 2025-11-25 and 2026-07-28 at /mcp', () => {
  it('each client negotiated its own era', () => {
    expect(legacy.getServerVersion()?.name).toBe('sluice-relay');
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
  });

  it('both list the same tools, generated from the verb table, with titles, icons and 2020-12 schemas', async () => {
    const [a, b] = [await legacy.listTools(), await modern.listTools()];
    const names = (Object.values(VERBS) as VerbSpec[]).map((v) => v.mcpName).sort();
    expect(a.tools.map((t) => t.name).sort()).toEqual(names);
    expect(b.tools.map((t) => t.name).sort()).toEqual(names);
    for (const t of b.tools) {
      const twin = a.tools.find((x) => x.name === t.name)!;
      expect(twin.inputSchema, t.name).toEqual(t.inputSchema);
      expect(twin.description, t.name).toBe(t.description);
      expect(t.title, t.name).toBe(Object.values(VERBS).find((v) => v.mcpName === t.name)!.title);
      expect(t.icons?.[0]?.mimeType, t.name).toBe('image/svg+xml');
      expect(t.inputSchema.$schema, t.name).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(t.outputSchema?.type, t.name).toBe('object');
    }
  });

  it('the 2026-07-28 list carries caching hints', async () => {
    const raw = await modern.listTools();
    expect(raw).toMatchObject({ ttlMs: 300_000, cacheScope: 'private' });
  });

  it('both call through to the real daemon: a run opened in one era is read in the other', async () => {
    const opened = (await legacy.callTool({ name: 'runs_open', arguments: { workspaceId: s.workspaceId, title: 'from 2025' } })) as ToolResult;
    expect(opened.isError).toBeFalsy();
    const runId = (opened.structuredContent as { runId: string }).runId;
    const read = (await modern.callTool({ name: 'runs_get', arguments: { runId } })) as ToolResult;
    expect(read.isError).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ runId, title: 'from 2025', state: 'open' });
    const listed = (await modern.callTool({ name: 'instances_list', arguments: {} })) as ToolResult;
    expect((listed.structuredContent as { instances: Array<{ instanceId: string }> }).instances.map((i) => i.instanceId)).toContain(s.instanceId);
  });

  it('a refused call gives code and hint to both clients, as JSON text and in _meta, valid against the output schema rules', async () => {
    const opened = (await modern.callTool({ name: 'runs_open', arguments: { workspaceId: s.workspaceId } })) as ToolResult;
    const runId = (opened.structuredContent as { runId: string }).runId;
    const wrong = { runId, executor: 'no-such-executor', task: 'write a.txt\n<<<\nx\n>>>' };
    for (const client of [legacy, modern]) {
      const body = refusal((await client.callTool({ name: 'steps_dispatch', arguments: wrong })) as ToolResult);
      expect(body.code).toBe('EXECUTOR_NOT_ALLOWED');
      expect(body.hint).toBe(ERROR_CATALOG.EXECUTOR_NOT_ALLOWED.hint);
      expect(body.retryable).toBe(false);
    }
    // Bad input is the dispatcher's structured INVALID_INPUT with field details, in both eras.
    for (const client of [legacy, modern]) {
      const body = refusal((await client.callTool({ name: 'steps_dispatch', arguments: { runId, executor: 'sim', task: '', attempts: 9 } })) as ToolResult);
      expect(body.code).toBe('INVALID_INPUT');
      expect(body.details?.map((d) => d.path).sort()).toEqual(['attempts', 'task']);
    }
  });

  it('a 2026-07-28 POST whose Mcp-Method header disagrees with the body is refused with the spec error (-32020)', async () => {
    const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const res = await fetch(`${s.relayUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${s.orgA.token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'runs_list', arguments: {}, _meta: envelope } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { id: unknown; error: { code: number; message: string } };
    expect(body.error.code).toBe(-32020);
    expect(body.error.message).toMatch(/Mcp-Method/);
    expect(body.id).toBe(1);
  });

  it('the planner guide is a resource and a prompt in both eras, naming only real tools', async () => {
    for (const client of [legacy, modern]) {
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['sluice://guide/planner']);
      const read = await client.readResource({ uri: 'sluice://guide/planner' });
      const text = (read.contents[0] as { text: string }).text;
      for (const v of Object.values(VERBS) as VerbSpec[]) expect(text).toContain(`\`${v.mcpName}\``);
      const prompt = await client.getPrompt({ name: 'drive_a_run' });
      expect((prompt.messages[0]!.content as { text: string }).text).toBe(text);
    }
  });
});
