import { isIP } from 'node:net';

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Plain HTTP on a reachable address would put bearer tokens on the wire: refuse unless explicitly allowed. */
export function checkListenSafety(opts: { host: string; tls: boolean; allowInsecureHttp: boolean }): string | undefined {
  if (opts.tls || opts.allowInsecureHttp || isLoopbackHost(opts.host)) return undefined;
  return `Refusing to serve plain HTTP on ${opts.host}: use --tls-cert/--tls-key, put the relay behind a TLS proxy on loopback, or pass --allow-insecure-http.`;
}

/** Parse durations like `30m`, `12h`, `90d` to milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`Not a duration: "${text}" (use e.g. 30m, 12h, 90d)`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
