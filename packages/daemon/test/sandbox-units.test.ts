import { request } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bwrapArgv, orderMounts } from '../src/sandbox/bwrap-argv.js';
import { EgressProxy, allows, destinationOf, type Destination } from '../src/sandbox/egress-proxy.js';
import { defaultHosts } from '../src/sandbox/adapter-defaults.js';

describe('the bwrap argv', () => {
  it('unshares everything, drops every capability, dies with its parent, and puts a folder before what lies in it', () => {
    const argv = bwrapArgv('/usr/bin/bwrap', { mounts: [{ kind: 'rw', src: '/tmp', dest: '/tmp/x' }, { kind: 'tmpfs', dest: '/tmp' }], cwd: '/tmp/x', blockFd: 3 }, ['prog', 'a b']);
    expect(argv).toEqual(['/usr/bin/bwrap', '--unshare-all', '--die-with-parent', '--cap-drop', 'ALL', '--tmpfs', '/tmp', '--bind', '/tmp', '/tmp/x', '--chdir', '/tmp/x', '--block-fd', '3', '--', 'prog', 'a b']);
  });

  it('drops a read-only bind a read-only parent already gives, keeps one under a writable mount, drops missing sources', () => {
    const ordered = orderMounts([
      { kind: 'ro', src: '/usr', dest: '/usr' },
      { kind: 'ro', src: '/usr/bin', dest: '/usr/bin' },
      { kind: 'tmpfs', dest: '/tmp' },
      { kind: 'ro', src: '/', dest: '/tmp/root' },
      { kind: 'ro', src: '/nonexistent-sluice', dest: '/x' },
    ]);
    expect(ordered.map((m) => m.dest)).toEqual(['/usr', '/tmp', '/tmp/root']);
  });
});

describe('the egress allowlist', () => {
  it('a bare host allows 443 and 80, host:port that port only, names without case, IPv6 in brackets', () => {
    expect(allows(['api.example.com'], { host: 'API.example.com', port: 443 })).toBe(true);
    expect(allows(['api.example.com'], { host: 'api.example.com', port: 80 })).toBe(true);
    expect(allows(['api.example.com'], { host: 'api.example.com', port: 22 })).toBe(false);
    expect(allows(['api.example.com'], { host: 'evil.api.example.com', port: 443 })).toBe(false);
    expect(allows(['127.0.0.1:8080'], { host: '127.0.0.1', port: 8081 })).toBe(false);
    expect(allows(['[::1]:9'], { host: '::1', port: 9 })).toBe(true);
  });

  it('reads CONNECT targets and absolute http URIs; refuses credentials in the URI and other schemes', () => {
    expect(destinationOf('CONNECT', 'api.example.com:443')).toEqual({ dest: { host: 'api.example.com', port: 443 }, path: null });
    expect(destinationOf('GET', 'http://127.0.0.1:9/v1?x=1')).toEqual({ dest: { host: '127.0.0.1', port: 9 }, path: '/v1?x=1' });
    expect(destinationOf('GET', 'http://u:p@127.0.0.1/')).toBeNull();
    expect(destinationOf('GET', '/relative')).toBeNull();
    expect(destinationOf('CONNECT', 'no-port')).toBeNull();
  });

  it("an agent's model API by default comes from its base-URL variable, else the vendor's host; none for command", () => {
    expect(defaultHosts('claude-code', { ANTHROPIC_BASE_URL: 'http://127.0.0.1:4000' })).toEqual(['127.0.0.1:4000']);
    expect(defaultHosts('claude-code', {})).toEqual(['api.anthropic.com:443']);
    expect(defaultHosts('command', { ANTHROPIC_BASE_URL: 'http://127.0.0.1:4000' })).toEqual([]);
  });
});

describe('the egress proxy', () => {
  it('forwards plain HTTP to an allowed loopback server and refuses a CONNECT elsewhere, reporting it', async () => {
    const upstream = createServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as { port: number }).port;
    const denied: Destination[] = [];
    const proxy = await new EgressProxy([`127.0.0.1:${port}`], (d) => denied.push(d)).start();
    const ask = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ socketPath: proxy.socketPath, method, path, headers: { host: 'x' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('connect', (res, sock) => {
          sock.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await ask('GET', `http://127.0.0.1:${port}/`)).toBe(200);
      expect(await ask('CONNECT', '127.0.0.1:1')).toBe(403);
      expect(denied).toEqual([{ host: '127.0.0.1', port: 1 }]);
    } finally {
      await proxy.close();
      await new Promise((r) => upstream.close(r));
    }
  });
});
