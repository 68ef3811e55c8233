import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DAEMON_SOCKET_FILE } from '@sluice/shared-protocol';

/**
 * Another local account squatting the port a killed daemon used: a real HTTP server on 127.0.0.1 that answers like a
 * daemon and records every header it is sent.
 */
export class Stranger {
  readonly headers: IncomingHttpHeaders[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Stranger> {
    const server = createServer();
    const s = new Stranger(server);
    server.on('request', (req, res) => {
      s.headers.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ workspaces: [] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * What a daemon killed with -9 leaves in its home: `daemon.json` naming its old port (now the stranger's) and a
 * socket file nothing listens on.
 */
export function leaveKilledDaemonBehind(home: string, staleUrl: string): void {
  writeFileSync(join(home, 'daemon.json'), JSON.stringify({ url: staleUrl, pid: 999_999, startedAt: new Date().toISOString() }), { mode: 0o600 });
  const socket = join(home, DAEMON_SOCKET_FILE);
  const listenThenDie = `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', listenThenDie]);
}
