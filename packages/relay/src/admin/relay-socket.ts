import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import * as z from 'zod';
import { socketAnswers, socketPathFits } from '@sluice/node-kit';
import { InstanceId } from '@sluice/shared-protocol';
import type { Logger } from 'pino';
import type { LiveOutcome, LiveRelay } from './admin-service.js';

/** Longest notice or answer line. */
const MAX_LINE_BYTES = 1024;
const ANSWER_TIMEOUT_MS = 5000;

const Notice = z.strictObject({ instanceChanged: InstanceId });
const Answer = z.strictObject({ closed: z.number().int().min(0) });

/** The socket a running relay listens on next to its database, for the CLI working on the same database. */
export function relaySocketPath(dbPath: string): string {
  return `${dbPath}.sock`;
}


/** One JSON line from the socket, or undefined when the peer sends none, too much, or goes away. */
function readLine(socket: Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const done = (line: string | undefined): void => {
      socket.removeAllListeners('data');
      resolve(line);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => {
      done(undefined);
      socket.destroy();
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) done(text.slice(0, end));
      else if (text.length > MAX_LINE_BYTES) done(undefined);
    });
    socket.on('error', () => done(undefined));
    socket.on('end', () => done(undefined));
  });
}

function parseLine<T>(schema: z.ZodType<T>, line: string | undefined): T | undefined {
  if (line === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}


/**
 * Listen next to the database so that `sluice-relay instance disable|revoke` run against it closes the live
 * session at once. A notice carries no authority: the relay only re-reads the named instance from the store. Without
 * the socket (path too long, a second relay on the database) the heartbeat tick still closes the session.
 */
export async function listenRelaySocket(path: string, live: LiveRelay, log: Logger): Promise<{ close(): Promise<void> } | undefined> {
  if (!socketPathFits(path)) {
    log.warn({ path }, 'the relay socket path is too long; CLI changes to instances reach live sessions at the next heartbeat');
    return undefined;
  }
  if (existsSync(path)) {
    if (await socketAnswers(path)) {
      log.warn({ path }, 'another relay listens on this database; CLI changes to instances reach this relay at the next heartbeat');
      return undefined;
    }
    unlinkSync(path);
  }
  const server: Server = createServer((socket) => void serve(socket, live));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // Already gone.
        }
      }),
  };
}

async function serve(socket: Socket, live: LiveRelay): Promise<void> {
  const notice = parseLine(Notice, await readLine(socket));
  if (!notice) {
    socket.destroy();
    return;
  }
  try {
    const outcome = await live.instanceChanged(notice.instanceChanged);
    socket.end(`${JSON.stringify({ closed: outcome.reached ? outcome.closed : 0 })}\n`);
  } catch {
    // The store failed; the CLI reports the relay did not answer, and the heartbeat tick tries again.
    socket.destroy();
  }
}

/** The running relay of a database, as the CLI reaches it through the relay socket (if one listens). */
export class RunningRelay implements LiveRelay {
  constructor(private readonly path: string) {}

  instanceChanged(instanceId: string): Promise<LiveOutcome> {
    if (!socketPathFits(this.path) || !existsSync(this.path)) return Promise.resolve({ reached: false, why: 'no relay listens on this database' });
    return new Promise((resolve) => {
      const socket = createConnection(this.path);
      socket.once('error', () => resolve({ reached: false, why: 'no relay listens on this database' }));
      socket.once('connect', () => {
        socket.write(`${JSON.stringify({ instanceChanged: instanceId })}\n`);
        void readLine(socket).then((line) => {
          socket.destroy();
          const answer = parseLine(Answer, line);
          resolve(answer ? { reached: true, closed: answer.closed } : { reached: false, why: 'the relay did not answer' });
        });
      });
    });
  }

  /** Open event streams of the running relay re-check their credential on their own interval. */
  credentialsRevoked(): void {}
}
