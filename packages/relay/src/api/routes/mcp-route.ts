import type { FastifyInstance } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { RELAY_PATHS, SluiceError } from '@sluice/shared-protocol';
import { buildMcpServer } from '../mcp-server.js';
import { RELAY_VERSION } from '../../version.js';
import type { RelayContext } from '../context.js';
import { principalOf, requireAuth } from '../context.js';

/** `/mcp`: stateless Streamable HTTP, a new server and transport per POST; GET and DELETE are 405 after auth. */
export function registerMcpRoute(app: FastifyInstance, ctx: RelayContext): void {
  const auth = requireAuth(ctx);

  app.post(RELAY_PATHS.mcp, { preHandler: auth }, async (request, reply) => {
    const principal = principalOf(request);
    // One JSON-RPC message per request, so the rate limit counts messages (MCP 2025-06-18 dropped batching).
    if (Array.isArray(request.body)) {
      return reply.code(400).type('application/json; charset=utf-8').send({
        jsonrpc: '2.0',
        error: { code: -32600, message: 'JSON-RPC batches are not supported: send one message per request.' },
        id: null,
      });
    }
    const server = buildMcpServer(principal, ctx.dispatcher, { ip: request.ip, via: 'mcp' }, RELAY_VERSION, request.body);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (err) {
      ctx.log.error({ err }, 'mcp request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      }
    }
  });

  const notAllowed = async (_req: unknown, reply: { header: (k: string, v: string) => unknown }): Promise<never> => {
    reply.header('Allow', 'POST');
    throw new SluiceError('METHOD_NOT_ALLOWED');
  };
  app.get(RELAY_PATHS.mcp, { preHandler: auth }, notAllowed);
  app.delete(RELAY_PATHS.mcp, { preHandler: auth }, notAllowed);
}
