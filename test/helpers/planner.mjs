// Planner clients: the same verb calls over the relay's /api/v2 (plain fetch) and /mcp (the real MCP SDK client).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { VERBS, relayVerbPath } from '@sluice/shared-protocol';

/** A refusal from the relay (or from an instance behind it), with its stable code. */
export class PlannerError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.name = 'PlannerError';
    this.code = code;
    this.status = status;
  }
}

/** A planner speaking `/api/v2`: `POST /api/v2/<verb>` with a bearer token. */
export class HttpPlanner {
  /** @param {string} relayUrl @param {string} token */
  constructor(relayUrl, token) {
    this.relayUrl = relayUrl.replace(/\/$/, '');
    this.token = token;
    this.kind = 'api/v2';
  }

  async connect() {
    return this;
  }

  async close() {}

  /** Call one verb; resolves with its output or throws a PlannerError. */
  async call(verb, input = {}) {
    const res = await fetch(`${this.relayUrl}${relayVerbPath(verb)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PlannerError('UPSTREAM_ERROR', `non-JSON answer (${res.status}): ${text.slice(0, 200)}`, res.status);
    }
    if (!res.ok) throw new PlannerError(body.code ?? 'UNKNOWN', body.message ?? text, res.status);
    return body;
  }
}

/** A planner speaking MCP over Streamable HTTP with the SDK client; verbs are called as their tools. */
export class McpPlanner {
  /** @param {string} relayUrl @param {string} token */
  constructor(relayUrl, token) {
    this.relayUrl = relayUrl.replace(/\/$/, '');
    this.token = token;
    this.kind = 'mcp';
    this.client = undefined;
  }

  async connect() {
    const transport = new StreamableHTTPClientTransport(new URL(`${this.relayUrl}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${this.token}` } },
    });
    this.client = new Client({ name: 'sluice-e2e-planner', version: '0.1.0' });
    await this.client.connect(transport);
    return this;
  }

  async close() {
    await this.client?.close();
    this.client = undefined;
  }

  /** Tool names the relay offers. */
  async toolNames() {
    const { tools } = await this.client.listTools();
    return tools.map((t) => t.name).sort();
  }

  /** Call one verb as its tool; resolves with the structured content or throws a PlannerError. */
  async call(verb, input = {}) {
    const spec = VERBS[verb];
    if (!spec) throw new Error(`not a verb: ${verb}`);
    const result = await this.client.callTool({ name: spec.mcpName, arguments: input }, undefined, { timeout: 60_000 });
    if (result.isError) {
      // The relay's error body rides in _meta and, as JSON, in the text block.
      const body = result._meta?.['dev.sluice/error'];
      const text = (result.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('\n');
      throw new PlannerError(body?.code ?? 'UNKNOWN', body?.message ?? text, undefined);
    }
    return result.structuredContent;
  }
}

/**
 * Follow a run's events with `events.list` long-polls from `after` until `until(event)` is true; returns the
 * events seen and the cursor to resume from.
 * @param {{ call(verb: string, input: object): Promise<any> }} planner
 * @param {{ runId: string, after?: number, until: (e: any) => boolean | Promise<boolean>, timeoutMs?: number, onEvent?: (e: any) => void, waitMs?: number }} opts
 */
export async function followEvents(planner, opts) {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let cursor = opts.after ?? 0;
  const seen = [];
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const types = seen.map((e) => e.type).join(', ');
      throw new Error(`the awaited event did not arrive (cursor ${cursor}; saw: ${types || 'nothing'})`);
    }
    const page = await planner.call('events.list', { runId: opts.runId, after: cursor, waitMs: Math.min(opts.waitMs ?? 5_000, remaining) });
    for (const e of page.events) {
      seen.push(e);
      opts.onEvent?.(e);
      if (await opts.until(e)) return { events: seen, cursor: e.cursor, nextCursor: page.nextCursor, match: e };
    }
    cursor = page.nextCursor;
  }
}
