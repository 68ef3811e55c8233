import { McpServer } from '@modelcontextprotocol/server';
import type { CallToolResult, StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { toSluiceError } from '@sluice/node-kit';
import { renderPlannerGuide, VERBS } from '@sluice/shared-protocol';
import type { ErrorBody, VerbSpec } from '@sluice/shared-protocol';
import type { Principal } from '../auth/principal.js';
import type { CallContext, Dispatcher } from '../routing/dispatcher.js';

export const PLANNER_GUIDE_URI = 'sluice://guide/planner';
export const PLANNER_GUIDE_PROMPT = 'drive_a_run';

/** Where an error result carries its body besides the text block (a client that reads `_meta` needs no parsing). */
export const MCP_ERROR_META_KEY = 'dev.sluice/error';

/** The one icon every tool shows: a sluice gate, inline so no client has to fetch anything. */
const TOOL_ICON = {
  src: `data:image/svg+xml;base64,${Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M1 3h14v2H1zM3 5h2v8H3zM11 5h2v8h-2zM5 9h6v4H5z" fill="#2b6cb0"/></svg>',
  ).toString('base64')}`,
  mimeType: 'image/svg+xml',
  sizes: ['any'],
};

/** What clients may cache: the tool list, prompts and the guide change only with a relay release. */
const LIST_CACHE = { ttlMs: 300_000, cacheScope: 'private' as const };

/**
 * A verb schema as the SDK publishes it (JSON Schema 2020-12, converted once) with the SDK's own check turned into a
 * pass-through: the dispatcher parses every input with the same zod schema, so a bad argument comes back as a
 * structured INVALID_INPUT with field details rather than the SDK's one line of text, on MCP exactly as on /api/v2.
 */
function published(schema: VerbSpec['input']): StandardSchemaWithJSON {
  const std = schema['~standard'] as unknown as StandardSchemaWithJSON['~standard'];
  const memo = new Map<string, Record<string, unknown>>();
  const json = (io: 'input' | 'output') => (options: { target: string }) => {
    const key = `${io}:${options.target}`;
    if (!memo.has(key)) memo.set(key, std.jsonSchema[io](options as never));
    return memo.get(key)!;
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'sluice',
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: json('input'), output: json('output') },
    },
  } as StandardSchemaWithJSON;
}

interface ToolSchemas {
  spec: VerbSpec;
  input: StandardSchemaWithJSON;
  output: StandardSchemaWithJSON;
}

const TOOLS: readonly ToolSchemas[] = (Object.values(VERBS) as VerbSpec[]).map((spec) => ({ spec, input: published(spec.input), output: published(spec.output) }));

/** A refused call as a tool result: the error body as JSON text (what a model reads) and in `_meta` (what code reads). */
export function errorResult(body: ErrorBody): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body) }], _meta: { [MCP_ERROR_META_KEY]: body } };
}

/**
 * A fresh MCP server for one stateless request of either era, with exactly the verb table as tools. Tool calls go
 * through the same dispatcher as /api/v2. A refused call is a tool result with `isError: true` and no
 * structuredContent (the output schema describes success only, and clients check structuredContent against it).
 */
export function buildMcpServer(principal: Principal, dispatcher: Dispatcher, ctx: CallContext, version: string, onlyTool?: string): McpServer {
  const server = new McpServer(
    { name: 'sluice-relay', title: 'Sluice', version, icons: [TOOL_ICON] },
    {
      capabilities: { tools: {}, resources: {}, prompts: {} },
      instructions: `Drive coding agents on an operator's machine. Start with instances_list; the guide is the resource ${PLANNER_GUIDE_URI} and the prompt ${PLANNER_GUIDE_PROMPT}.`,
      cacheHints: { 'tools/list': LIST_CACHE, 'prompts/list': LIST_CACHE, 'resources/list': LIST_CACHE, 'server/discover': LIST_CACHE },
    },
  );
  // Registering the whole table costs milliseconds per request; a lone tools/call only ever consults its own tool.
  const only = TOOLS.filter((t) => t.spec.mcpName === onlyTool);
  for (const { spec, input, output } of only.length > 0 ? only : TOOLS) {
    server.registerTool(
      spec.mcpName,
      {
        title: spec.title,
        description: spec.description,
        icons: [TOOL_ICON],
        inputSchema: input,
        outputSchema: output,
        annotations: {
          title: spec.title,
          readOnlyHint: spec.hints.readOnly,
          destructiveHint: spec.hints.destructive,
          idempotentHint: spec.hints.idempotent,
          openWorldHint: false,
        },
      },
      async (args: unknown): Promise<CallToolResult> => {
        try {
          const result = (await dispatcher.call(principal, spec.name, args, ctx)) as Record<string, unknown>;
          return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
        } catch (err) {
          return errorResult(toSluiceError(err).toBody());
        }
      },
    );
  }
  registerGuide(server);
  return server;
}

/** The planner guide, as a resource and as a prompt, for clients that use either; the tools alone are enough. */
function registerGuide(server: McpServer): void {
  server.registerResource(
    'planner-guide',
    PLANNER_GUIDE_URI,
    { title: 'How to drive Sluice', description: 'The verbs, the run lifecycle and how errors tell you what to do next.', mimeType: 'text/markdown', cacheHint: LIST_CACHE },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: renderPlannerGuide() }] }),
  );
  server.registerPrompt(
    PLANNER_GUIDE_PROMPT,
    { title: 'Drive a Sluice run', description: 'Instructions for a planner: open a run, dispatch steps, wait, decide gates, close.' },
    () => ({ messages: [{ role: 'user', content: { type: 'text', text: renderPlannerGuide() } }] }),
  );
}
