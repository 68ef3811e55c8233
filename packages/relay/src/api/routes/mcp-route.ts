import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { AuthInfo, McpRequestContext } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { RELAY_PATHS, SluiceError } from '@sluice/shared-protocol';
import type { Principal } from '../../auth/principal.js';
import type { CallContext } from '../../routing/dispatcher.js';
import { refuseBeforeSdk } from '../mcp-guards.js';
import { buildMcpServer } from '../mcp-server.js';
import { RELAY_VERSION } from '../../version.js';
import type { RelayContext } from '../context.js';
import { principalOf, requireAuth } from '../context.js';

/** What the route hands the per-request server factory through the SDK's pass-through `authInfo`. */
interface McpCaller {
  principal: Principal;
  call: CallContext;
  onlyTool: string | undefined;
}

/**
 * `/mcp`: both MCP eras from one SDK handler and one factory. 2025-11-25 (`initialize`) is served statelessly, a new
 * server per POST; 2026-07-28 (`server/discover`, a `_meta` envelope per request) is stateless by design, and the SDK
 * refuses requests whose `Mcp-Method`/`Mcp-Name` headers disagree with the body. GET and DELETE are 405 after auth.
 */
export function registerMcpRoute(app: FastifyInstance, ctx: RelayContext): void {
  const auth = requireAuth(ctx);
  const handler = createMcpHandler(
    (mcp: McpRequestContext) => {
      const caller = mcp.authInfo?.extra?.caller as McpCaller;
      return buildMcpServer(caller.principal, ctx.dispatcher, caller.call, RELAY_VERSION, caller.onlyTool);
    },
    { legacy: 'stateless', onerror: (err) => ctx.log.debug({ err: err.message }, 'mcp request refused') },
  );
  const serve = toNodeHandler(handler, { onerror: (err) => ctx.log.error({ err }, 'mcp request failed') });

  app.post(RELAY_PATHS.mcp, { preHandler: auth }, async (request, reply) => {
    const refused = refuseBeforeSdk(request.headers, request.body);
    if (refused) return reply.code(refused.status).type('application/json; charset=utf-8').send(refused.body);
    (request.raw as { auth?: AuthInfo }).auth = authInfoOf(request);
    reply.hijack();
    await serve(request.raw, reply.raw, request.body);
  });

  const notAllowed = async (_req: unknown, reply: { header: (k: string, v: string) => unknown }): Promise<never> => {
    reply.header('Allow', 'POST');
    throw new SluiceError('METHOD_NOT_ALLOWED');
  };
  app.get(RELAY_PATHS.mcp, { preHandler: auth }, notAllowed);
  app.delete(RELAY_PATHS.mcp, { preHandler: auth }, notAllowed);
}

/** The authenticated caller for the factory; the bearer itself never reaches the MCP layer. */
function authInfoOf(request: FastifyRequest): AuthInfo {
  const principal = principalOf(request);
  const caller: McpCaller = { principal, call: { ip: request.ip, via: 'mcp' }, onlyTool: calledTool(request.body) };
  return { token: '', clientId: principal.actor, scopes: [...principal.scopes], extra: { caller } };
}

/** The tool name of a single `tools/call` message, else undefined (lists, anything else). */
function calledTool(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const m = body as { method?: unknown; params?: { name?: unknown } };
  return m.method === 'tools/call' && typeof m.params?.name === 'string' ? m.params.name : undefined;
}
