// The part every scripted model API shares: a loopback HTTP server, a queue of turns per test, a record of requests.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted answer to one main model request. `delayMs` holds the answer back first. */
export type Turn =
  | { kind: 'text'; text: string; delayMs?: number }
  | { kind: 'write'; path: string; content: string; text?: string; delayMs?: number }
  | { kind: 'shell'; command: string; text?: string; delayMs?: number }
  /** An error status; `sticky` keeps it at the head of the queue, so every later main request gets it too. */
  | { kind: 'status'; status: number; message: string; sticky?: boolean; delayMs?: number }
  /** The connection destroyed: before any response (`connect`), after the headers (default), or after one event. */
  | { kind: 'drop'; at?: 'connect' | 'headers' | 'event'; delayMs?: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** True when this request took a turn from the queue (a main agent turn, not a side request). */
  main: boolean;
  /** The turn it was answered with, when main. */
  turn?: Turn;
}

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: unknown;
}

/** What one API dialect decides per request: answer it itself (side requests) or take a turn from the queue. */
export interface Dialect {
  /** Returns true when it answered the request itself. */
  side(x: Exchange): boolean;
  /** Sends `turn` in this dialect's streaming (or plain JSON) shape. */
  answer(x: Exchange, turn: Exclude<Turn, { kind: 'status' | 'drop' }>, seq: number): void;
  /** Sends the first bytes of a stream, so the dropped connection is mid-stream. */
  streamStart(x: Exchange): void;
  errorBody(status: number, message: string): unknown;
}

export const DEFAULT_FINAL_TEXT = 'SCRIPTED: done.';

export class ScriptedApi {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Turn[] = [];
  private readonly server: Server;
  private seq = 0;
  url = '';
  /** Applied to a turn's path and command when it is answered (e.g. a worktree only known once the attempt runs). */
  rewrite: (s: string) => string = (s) => s;
  /**
   * Parallel sessions: picks the turn for a main request from its raw body (which names the session's worktree),
   * so each session gets its own turns whatever order their requests come in. Undefined: the queue answers.
   */
  route: ((rawBody: string) => Turn | undefined) | null = null;

  constructor(private readonly dialect: Dialect) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Queues turns for the next main requests; once the queue is empty each main request gets a final text. */
  script(...turns: Turn[]): this {
    this.queue.push(...turns);
    return this;
  }

  mainRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.main);
  }

  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
    this.rewrite = (s) => s;
    this.route = null;
  }

  /** Lets a connection that arrived another way (a unix socket bridged from a network namespace) reach this server. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = parseJson(raw);
    const path = req.url ?? '/';
    const x: Exchange = { req, res, path, body };
    const record: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, main: false };
    this.requests.push(record);
    if (this.dialect.side(x)) return;
    record.main = true;
    const head = this.queue[0];
    const turn = this.route?.(raw) ?? (head?.kind === 'status' && head.sticky ? head : this.queue.shift()) ?? { kind: 'text', text: DEFAULT_FINAL_TEXT };
    record.turn = turn;
    if (turn.delayMs) await new Promise((r) => setTimeout(r, turn.delayMs));
    if (res.destroyed) return;
    if (turn.kind === 'status') {
      res.writeHead(turn.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.dialect.errorBody(turn.status, turn.message)));
    } else if (turn.kind === 'drop') {
      if (turn.at === 'connect') {
        req.socket.destroy();
        return;
      }
      if (turn.at === 'event') this.dialect.streamStart(x);
      else sse(res, []);
      res.flushHeaders();
      setTimeout(() => res.destroy(), 20);
    } else {
      const r = this.rewrite;
      const resolved = turn.kind === 'write' ? { ...turn, path: r(turn.path) } : turn.kind === 'shell' ? { ...turn, command: r(turn.command) } : turn;
      this.dialect.answer(x, resolved, ++this.seq);
    }
  }
}

export function sse(res: ServerResponse, events: Array<{ event?: string; data: unknown }>): void {
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
