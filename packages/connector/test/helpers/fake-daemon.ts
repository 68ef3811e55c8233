import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
 * A daemon stand-in: a real HTTP server on 127.0.0.1:0 that writes `daemon.json` and `daemon.token` into a
 * `SLUICE_HOME`, checks the bearer token, and records every request it receives.
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
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    writeFileSync(join(home, 'daemon.token'), `${daemon.token}\n`, { mode: 0o600 });
    writeFileSync(join(home, 'daemon.json'), JSON.stringify({ url: daemon.url, pid: process.pid, startedAt: new Date().toISOString() }), { mode: 0o600 });
    return daemon;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Verb calls received (POST /api/v1/verbs/...). */
  verbCalls(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/api/v1/verbs/'));
  }

  /** Stop like a clean shutdown: the port closes and daemon.json disappears. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async doClose(): Promise<void> {
    rmSync(join(this.home, 'daemon.json'), { force: true });
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
