import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DAEMON_SOCKET_FILE } from '@sluice/shared-protocol';
import type { WorkspaceSummary } from '@sluice/shared-protocol';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type VerbHandler = (verb: string, body: unknown, req: RecordedRequest) => Promise<{ status: number; body: unknown }> | { status: number; body: unknown };

export const WORKSPACES: WorkspaceSummary[] = [
  { workspaceId: 'web-app', name: 'web-app', executors: ['sim', 'claude'], validations: ['test', 'lint'], approvalPolicy: 'none', remoteApprovals: true },
  { workspaceId: 'secret-repo', name: 'secret-repo', executors: ['sim'], validations: [], approvalPolicy: 'always', remoteApprovals: false },
];

/**
 * A daemon stand-in: a real HTTP server on the home socket (`SLUICE_HOME/daemon.sock`, as the daemon serves its local
 * clients) that writes `daemon.token` into a `SLUICE_HOME`, checks the bearer token, and records every request it
 * receives.
 */
export class FakeDaemon {
  readonly requests: RecordedRequest[] = [];
  readonly token = randomBytes(24).toString('hex');
  workspaces: WorkspaceSummary[] = WORKSPACES;
  /** Requests being served right now, and the most at once. */
  active = 0;
  maxActive = 0;
  handler: VerbHandler = (verb, body) => ({ status: 200, body: { verb, echo: body } });

  private constructor(
    private readonly server: Server,
    readonly home: string,
  ) {}

  static async start(home: string): Promise<FakeDaemon> {
    const server = createServer();
    const daemon = new FakeDaemon(server, home);
    server.on('request', (req, res) => void daemon.onRequest(req, res));
    await new Promise<void>((r) => server.listen(join(home, DAEMON_SOCKET_FILE), r));
    writeFileSync(join(home, 'daemon.token'), `${daemon.token}\n`, { mode: 0o600 });
    return daemon;
  }

  /** Verb calls received (POST /api/v1/verbs/...). */
  verbCalls(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/api/v1/verbs/'));
  }

  /** Stop like a clean shutdown: the socket closes and disappears. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async doClose(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
    this.requests.push(rec);
    const send = (status: number, body: unknown): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { code: 'UNAUTHENTICATED', message: 'A valid bearer token is required.' });
    if (req.method === 'GET' && rec.path === '/api/v1/workspaces') {
      const header = req.headers['x-sluice-shared-workspaces'];
      const allowed = typeof header === 'string' ? header.split(',').filter(Boolean) : undefined;
      return send(200, { workspaces: allowed ? this.workspaces.filter((w) => allowed.includes(w.workspaceId)) : this.workspaces });
    }
    const m = /^\/api\/v1\/verbs\/([a-z.]+)$/.exec(rec.path);
    if (req.method === 'POST' && m) {
      this.active += 1;
      this.maxActive = Math.max(this.maxActive, this.active);
      try {
        const out = await this.handler(m[1]!, rec.body, rec);
        return send(out.status, out.body);
      } finally {
        this.active -= 1;
      }
    }
    send(404, { code: 'NOT_FOUND', message: 'Not found.' });
  }
}
