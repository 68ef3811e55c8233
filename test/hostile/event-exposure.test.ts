// What a planner reads through events.list (the /api/v2 verb, the SSE follow and the MCP tool) over the real stack:
// executor output stays behind artifacts:read, credential shapes in it never reach a planner, and pages of big
// output events fit the frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startInProcessStack } from './in-process-stack.js';
import type { InProcessStack } from './in-process-stack.js';

let s: InProcessStack;
let runId: string;
let readOnly: string;
const SECRET = 'stdout-line-with-a-secret';

async function verb(token: string, name: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.relayUrl}/api/v2/${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function mcpEvents(token: string, args: Record<string, unknown>): Promise<{ isError?: boolean; text: string }> {
  const client = new Client({ name: 'exposure', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${s.relayUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const r = (await client.callTool({ name: 'events_list', arguments: args })) as { isError?: boolean; content: { text: string }[] };
    return { isError: r.isError, text: r.content[0]!.text };
  } finally {
    await client.close();
  }
}

/** The first `n` SSE events of the run, as text. */
async function sseText(token: string, n: number): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(`${s.relayUrl}/api/v2/runs/${runId}/events?after=0`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = '';
  while ((text.match(/^id: /gm) ?? []).length < n && !text.includes('event: error')) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  return text;
}

beforeAll(async () => {
  s = await startInProcessStack();
  readOnly = (await s.relayStore.createToken({ orgId: s.orgA.orgId, name: 'follower', scopes: ['runs:read'] })).secret;
  const open = await verb(s.orgA.token, 'runs.open', { workspaceId: 'web' });
  runId = open.body.runId as string;
  s.daemon.store.appendEvent({ type: 'attempt.log', runId, data: { lines: [{ stream: 'stdout', text: SECRET }] } }, 'system:engine');
}, 60_000);

afterAll(async () => {
  await s?.close();
}, 30_000);

describe('executor output needs artifacts:read', () => {
  it('events.list, the SSE follow and MCP withhold attempt.log text from a runs:read-only token', async () => {
    const page = await verb(readOnly, 'events.list', { runId });
    expect(page.status).toBe(200);
    const log = (page.body.events as { type: string; data: Record<string, unknown> }[]).find((e) => e.type === 'attempt.log')!;
    expect(log.data).toMatchObject({ lines: [{ stream: 'stdout' }], withheld: expect.stringContaining('artifacts:read') });
    expect(JSON.stringify(page.body)).not.toContain(SECRET);
    const sse = await sseText(readOnly, 2);
    expect(sse).toContain('attempt.log');
    expect(sse).not.toContain(SECRET);
    const mcp = await mcpEvents(readOnly, { runId });
    expect(mcp.isError).toBeFalsy();
    expect(mcp.text).toContain('withheld');
    expect(mcp.text).not.toContain(SECRET);
  });

  it('a token with artifacts:read sees the text', async () => {
    expect(JSON.stringify((await verb(s.orgA.token, 'events.list', { runId })).body)).toContain(SECRET);
    expect(await sseText(s.orgA.token, 2)).toContain(SECRET);
    expect((await mcpEvents(s.orgA.token, { runId })).text).toContain(SECRET);
  });
});

describe('credential shapes in executor output', () => {
  it('a planner token printed by the agent is withheld on the API, the SSE follow and MCP, even with artifacts:read', async () => {
    const leaky = (await verb(s.orgA.token, 'runs.open', { workspaceId: 'web' })).body.runId as string;
    s.daemon.store.appendEvent({ type: 'attempt.log', runId: leaky, data: { lines: [{ stream: 'stdout', text: `export SLUICE_TOKEN=${s.orgA.token}` }] } }, 'system:engine');
    const page = await verb(s.orgA.token, 'events.list', { runId: leaky });
    expect(JSON.stringify(page.body)).toContain('export SLUICE_TOKEN=[withheld: Sluice token]');
    expect(JSON.stringify(page.body)).not.toContain(s.orgA.token);
    const mcp = await mcpEvents(s.orgA.token, { runId: leaky });
    expect(mcp.text).toContain('[withheld: Sluice token]');
    expect(mcp.text).not.toContain(s.orgA.token);
    const followed = runId;
    runId = leaky;
    const sse = await sseText(s.orgA.token, 2);
    runId = followed;
    expect(sse).toContain('[withheld: Sluice token]');
    expect(sse).not.toContain(s.orgA.token);
  });
});

describe('big output events', () => {
  it('a full page of long log lines answers on the API, the SSE follow and MCP instead of RESPONSE_TOO_LARGE', async () => {
    const big = (await verb(s.orgA.token, 'runs.open', { workspaceId: 'web' })).body.runId as string;
    const lines = Array.from({ length: 50 }, () => ({ stream: 'stdout', text: '"\\'.repeat(250) }));
    s.daemon.store.appendEvents(Array.from({ length: 499 }, () => ({ type: 'attempt.log', runId: big, data: { lines } })), 'system:engine');
    const page = await verb(s.orgA.token, 'events.list', { runId: big, limit: 500 });
    expect(page.status, JSON.stringify(page.body).slice(0, 200)).toBe(200);
    const events = page.body.events as unknown[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(500);
    expect(page.body.nextCursor).toBe(events.length);
    const mcp = await mcpEvents(s.orgA.token, { runId: big, limit: 500 });
    expect(mcp.isError, mcp.text.slice(0, 200)).toBeFalsy();
    runId = big;
    expect(await sseText(s.orgA.token, 3)).not.toContain('event: error');
  });
});
