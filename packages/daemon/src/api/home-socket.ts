import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { MAX_SOCKET_PATH_BYTES, socketAnswers, socketPathFits } from '@sluice/node-kit';


const homeSocketConnections = new WeakSet<Socket>();

/** True when a request came over the daemon's home socket rather than TCP. */
export function cameThroughHomeSocket(req: IncomingMessage): boolean {
  return homeSocketConnections.has(req.socket);
}

/** The home socket's server: stop accepting, then cut what is left once the app has drained. */
export interface HomeSocket {
  path: string;
  stopAccepting(): void;
  close(): Promise<void>;
}

/**
 * Serve the app on a Unix socket inside the mode-700 home as well as on TCP. A socket file left by a daemon that
 * was killed is removed; one that still answers means another daemon serves this home, which is refused.
 */
export async function listenHomeSocket(app: FastifyInstance, path: string, opts: { requestTimeoutMs: number }): Promise<HomeSocket> {
  if (!socketPathFits(path)) {
    throw new Error(`the daemon socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter SLUICE_HOME`);
  }
  await removeStaleSocket(path);
  // The same timeouts as the TCP listener (Fastify's keep-alive default), so pooled client connections behave alike.
  const server = createServer(
    { requestTimeout: opts.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, opts.requestTimeoutMs), keepAliveTimeout: app.initialConfig.keepAliveTimeout ?? 72_000 },
    (req, res) => app.routing(req, res),
  );
  server.on('connection', (socket) => homeSocketConnections.add(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    path,
    stopAccepting: () => {
      server.close();
      server.closeIdleConnections();
    },
    close: () => closeServer(server, path),
  };
}

async function closeServer(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  rmSync(path, { force: true });
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket; remove it`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (await socketAnswers(path)) throw new Error(`another daemon is serving this home on ${path}; stop it first (sluice daemon stop)`);
  rmSync(path, { force: true });
}

