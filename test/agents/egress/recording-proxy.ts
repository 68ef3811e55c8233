// A loopback HTTP(S) proxy that forwards nothing: it records and refuses every CONNECT and every proxied request.
// The CLIs get it as HTTPS_PROXY/HTTP_PROXY/ALL_PROXY, so any traffic to anything but the loopback model API
// (exempt through NO_PROXY) shows up here and fails the test.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class RecordingProxy {
  readonly attempts: string[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      this.attempts.push(`${req.method} ${req.url}`);
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('egress refused by the Sluice test proxy\n');
    });
    this.server.on('connect', (req, socket: Socket) => {
      this.attempts.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** The proxy variables in both spellings, because the CLIs' HTTP stacks read different ones. */
  env(): Record<string, string> {
    const noProxy = '127.0.0.1,localhost,::1';
    return {
      HTTPS_PROXY: this.url, HTTP_PROXY: this.url, ALL_PROXY: this.url, https_proxy: this.url, http_proxy: this.url, all_proxy: this.url,
      NO_PROXY: noProxy, no_proxy: noProxy,
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
