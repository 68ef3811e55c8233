import type { IncomingHttpHeaders } from 'node:http';

/** A JSON-RPC refusal the route writes itself, before the SDK sees the message. */
export interface McpRefusal {
  status: number;
  body: { jsonrpc: '2.0'; error: { code: number; message: string }; id: string | number | null };
}

/** The 2026-07-28 code for headers that disagree with the body (the SDK answers modern requests with it too). */
export const HEADER_MISMATCH = -32020;

function refuse(status: number, code: number, message: string, id: unknown = null): McpRefusal {
  return { status, body: { jsonrpc: '2.0', error: { code, message }, id: typeof id === 'string' || typeof id === 'number' ? id : null } };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * What `/mcp` refuses whatever the era: batches (the rate limit counts messages), `subscriptions/listen` (the tools
 * never change, and each subscription would hold a stream open outside the long-poll cap), and `Mcp-Method` /
 * `Mcp-Name` headers that disagree with the body, so nothing in front of the relay that routes or authorizes by
 * header can be told one thing while the relay does another. The SDK checks the same headers again on 2026-07-28
 * requests, including the Base64 form of `Mcp-Name`, which is left to it here.
 */
export function refuseBeforeSdk(headers: IncomingHttpHeaders, body: unknown): McpRefusal | undefined {
  if (Array.isArray(body)) return refuse(400, -32600, 'JSON-RPC batches are not supported: send one message per request.');
  if (!body || typeof body !== 'object') return undefined;
  const m = body as { id?: unknown; method?: unknown; params?: { name?: unknown; uri?: unknown } };
  if (typeof m.method !== 'string') return undefined;
  if (m.method === 'subscriptions/listen') return refuse(200, -32601, 'subscriptions/listen is not offered: the tool list of this server never changes.', m.id);
  const method = header(headers, 'mcp-method');
  if (method !== undefined && method !== m.method) {
    return refuse(400, HEADER_MISMATCH, `Bad Request: the request headers and body disagree: the body names method ${m.method} but the Mcp-Method header names ${method}`, m.id);
  }
  const name = header(headers, 'mcp-name');
  const named = typeof m.params?.name === 'string' ? m.params.name : typeof m.params?.uri === 'string' ? m.params.uri : undefined;
  if (name !== undefined && !name.startsWith('=?base64?') && named !== undefined && name !== named) {
    return refuse(400, HEADER_MISMATCH, `Bad Request: the request headers and body disagree: the body names ${named} but the Mcp-Name header names ${name}`, m.id);
  }
  return undefined;
}
