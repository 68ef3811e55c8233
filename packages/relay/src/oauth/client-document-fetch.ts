import { lookup as dnsLookup } from 'node:dns/promises';
import { request } from 'node:https';
import { BlockList, isIP } from 'node:net';

/** Resolves a host name to its addresses (a stub in tests). */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export interface ClientDocumentFetchOptions {
  resolve?: Resolver;
  /** Tests only (a `buildRelay` option, never configuration): allow loopback destinations. */
  allowLoopback?: boolean;
  /** Tests only: the certificate authority of the test server, in PEM. */
  ca?: string;
  maxBytes: number;
  timeoutMs: number;
}

/** A refused fetch; the message names the reason, never the content. */
export class ClientDocumentFetchError extends Error {}

const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23],
  ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address, else the address itself. (A `::ffff:0:0/96` rule cannot stand
 * in: BlockList matches every IPv4 address against it.)
 */
function unmapped(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Whether a fetch may connect to this address: public unicast, or loopback when tests allow it. */
export function isAllowedDestination(address: string, allowLoopback: boolean): boolean {
  const a = unmapped(address);
  if (allowLoopback && LOOPBACK.check(a.address, a.type)) return true;
  return !SPECIAL_USE.check(a.address, a.type);
}

const defaultResolve: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * The authorization server's `fetch` for client metadata documents: HTTPS only; the host is resolved first and
 * every address checked, then the connection goes to that checked address (so a second resolution cannot swap
 * it); redirects are answered as they are (the caller refuses anything but 200); body size and total time bounded.
 */
export function clientDocumentFetch(opts: ClientDocumentFetchOptions): (input: string | URL | Request, init?: { signal?: AbortSignal | null }) => Promise<Response> {
  const resolve = opts.resolve ?? defaultResolve;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') throw new ClientDocumentFetchError('client metadata documents are fetched over https only');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host);
    if (addresses.length === 0) throw new ClientDocumentFetchError('the host has no address');
    const refused = addresses.find((a) => !isAllowedDestination(a.address, opts.allowLoopback === true));
    if (refused) throw new ClientDocumentFetchError('the host resolves to a private, loopback or link-local address');
    return get(url, addresses[0]!.address, host, opts, init?.signal ?? undefined);
  };
}

function get(url: URL, address: string, host: string, opts: ClientDocumentFetchOptions, signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((resolvePromise, reject) => {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const req = request(
      {
        host: address,
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        servername: isIP(host) ? undefined : host,
        headers: { host: url.host, accept: 'application/json', 'user-agent': 'sluice-relay' },
        ...(opts.ca ? { ca: opts.ca } : {}),
        signal: abort,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            req.destroy(new ClientDocumentFetchError(`the document is larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const name of ['content-type', 'cache-control', 'expires'] as const) {
            const v = res.headers[name];
            if (typeof v === 'string') headers.set(name, v);
          }
          const status = res.statusCode ?? 502;
          resolvePromise(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
