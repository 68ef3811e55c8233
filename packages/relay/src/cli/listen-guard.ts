import { isLoopbackHost } from '@sluice/node-kit';

export { isLoopbackHost, parseDuration } from '@sluice/node-kit';

/** Plain HTTP on a reachable address would put bearer tokens on the wire: refuse unless explicitly allowed. */
export function checkListenSafety(opts: { host: string; tls: boolean; allowInsecureHttp: boolean }): string | undefined {
  if (opts.tls || opts.allowInsecureHttp || isLoopbackHost(opts.host)) return undefined;
  return `Refusing to serve plain HTTP on ${opts.host}: use --tls-cert/--tls-key, put the relay behind a TLS proxy on loopback, or pass --allow-insecure-http.`;
}
