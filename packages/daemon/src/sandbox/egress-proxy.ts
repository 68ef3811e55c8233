import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A destination as the proxy sees it. */
export interface Destination {
  host: string;
  port: number;
}

const HEAD_LIMIT = 64 * 1024;

/** `host` allows ports 443 and 80; `host:port` that port only. Names compare without case. */
export function allows(patterns: readonly string[], d: Destination): boolean {
  const host = d.host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return patterns.some((p) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(p.toLowerCase());
    if (!m?.[1]) return false;
    const pHost = m[1].replace(/^\[(.*)\]$/, '$1');
    return pHost === host && (m[2] ? Number(m[2]) === d.port : d.port === 443 || d.port === 80);
  });
}

/** Where a request line sends its bytes: `CONNECT host:port`, or an absolute `http://` URI. */
export function destinationOf(method: string, target: string): { dest: Destination; path: string | null } | null {
  if (method === 'CONNECT') {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(target);
    return m?.[1] && m[2] ? { dest: { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) }, path: null } : null;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || url.username || url.password) return null;
  return { dest: { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : 80 }, path: `${url.pathname}${url.search}` };
}

/**
 * The egress proxy of one sandboxed process: HTTP CONNECT and plain-HTTP forwarding on a Unix socket that is
 * bound into the sandbox, to the allowed hosts only. Every refusal is reported, with the destination asked for.
 */
export class EgressProxy {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sluice-egress-'));
  readonly socketPath = join(this.dir, 'egress.sock');
  private readonly server: Server;
  private readonly open = new Set<Socket>();

  constructor(
    private readonly allowed: readonly string[],
    private readonly onDenied: (d: Destination, why: string) => void,
  ) {
    this.server = createServer((s) => this.accept(s));
  }

  start(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => resolve(this));
    });
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private track(s: Socket): void {
    this.open.add(s);
    s.on('close', () => this.open.delete(s));
    s.on('error', () => s.destroy());
  }

  private accept(client: Socket): void {
    this.track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > HEAD_LIMIT) client.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
        return;
      }
      client.off('data', onData);
      client.pause();
      this.route(client, head.subarray(0, end).toString('latin1').split('\r\n'), head.subarray(end + 4));
    };
    client.on('data', onData);
  }

  private route(client: Socket, lines: string[], rest: Buffer): void {
    const [method = '', target = ''] = (lines[0] ?? '').split(' ');
    const found = destinationOf(method, target);
    if (!found) return this.refuse(client, 400, null, `not a proxy request: ${(lines[0] ?? '').slice(0, 200)}`);
    if (!allows(this.allowed, found.dest)) return this.refuse(client, 403, found.dest, 'not in the sandbox network allowlist');
    const upstream = connect(found.dest.port, found.dest.host);
    this.track(upstream);
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n'));
    upstream.once('connect', () => {
      if (found.path === null) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      else upstream.write(forwardedHead(method, found.path, lines.slice(1)));
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }

  private refuse(client: Socket, status: 400 | 403, dest: Destination | null, why: string): void {
    if (dest) this.onDenied(dest, why);
    client.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Request'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nsluice sandbox: ${why}\n`);
  }
}

/** The request as the origin expects it: origin-form target, no proxy headers, one request per connection. */
function forwardedHead(method: string, path: string, headers: string[]): string {
  const kept = headers.filter((h) => !/^(proxy-[a-z-]+|connection|keep-alive):/i.test(h));
  return [`${method} ${path} HTTP/1.1`, ...kept, 'Connection: close', '', ''].join('\r\n');
}
