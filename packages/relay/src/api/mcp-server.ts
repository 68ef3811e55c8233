import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { toSluiceError } from '@sluice/node-kit';
import { VERBS } from '@sluice/shared-protocol';
import type { VerbSpec } from '@sluice/shared-protocol';
import type { Principal } from '../auth/principal.js';
import type { CallContext, Dispatcher } from '../routing/dispatcher.js';

/**
 * A fresh MCP server for one stateless POST, with exactly the verb table as tools. Tool calls go through the same
 * dispatcher as /api/v2; failures come back as `isError: true` results whose text starts with the catalog code.
 */
/** One validator for every per-request server: the SDK otherwise compiles a new Ajv instance on each POST. */
const sharedValidator = new AjvJsonSchemaValidator();

export function buildMcpServer(principal: Principal, dispatcher: Dispatcher, ctx: CallContext, version: string, body?: unknown): McpServer {
  const server = new McpServer({ name: 'sluice-relay', version }, { capabilities: { tools: {} }, jsonSchemaValidator: sharedValidator });
  // Registering the whole table costs milliseconds per POST; a lone tools/call only ever consults its own tool.
  const only = calledTool(body);
  const specs = (Object.values(VERBS) as VerbSpec[]).filter((v) => only === undefined || v.mcpName === only);
  if (specs.length === 0) specs.push(...(Object.values(VERBS) as VerbSpec[]));
  for (const spec of specs) {
    server.registerTool(
      spec.mcpName,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: spec.input as never,
        outputSchema: spec.output as never,
        annotations: {
          title: spec.title,
          readOnlyHint: spec.hints.readOnly,
          destructiveHint: spec.hints.destructive,
          idempotentHint: spec.hints.idempotent,
          openWorldHint: false,
        },
      },
      (async (args: unknown): Promise<CallToolResult> => {
        try {
          const output = (await dispatcher.call(principal, spec.name, args, ctx)) as Record<string, unknown>;
          return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
        } catch (err) {
          const e = toSluiceError(err);
          // The body again as JSON, so a client reads the code and the allowed values without parsing prose.
          return { isError: true, content: [{ type: 'text', text: `${e.code}: ${e.message}` }, { type: 'text', text: JSON.stringify(e.toBody()) }] };
        }
      }) as never,
    );
  }
  return server;
}

/** The tool name of a single `tools/call` message, else undefined (lists, batches, anything else). */
function calledTool(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const m = body as { method?: unknown; params?: { name?: unknown } };
  return m.method === 'tools/call' && typeof m.params?.name === 'string' ? m.params.name : undefined;
}
