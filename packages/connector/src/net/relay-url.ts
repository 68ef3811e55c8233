import { isLoopbackHost } from '@sluice/node-kit';
import { ConnectorFailure, EXIT_CODES } from '../errors/exit-codes.js';

export { isLoopbackHost };

/**
 * Parse the relay base URL and refuse plain text to anything but loopback unless the operator said `--insecure`.
 * Returns the normalized HTTP(S) base URL (no trailing slash).
 */
export function checkRelayUrl(input: string, insecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ConnectorFailure('INSECURE_RELAY_URL', `the relay URL ${JSON.stringify(input)} is not a URL`, EXIT_CODES.usage);
  }
  const proto = url.protocol;
  if (proto === 'ws:') url.protocol = 'http:';
  else if (proto === 'wss:') url.protocol = 'https:';
  else if (proto !== 'http:' && proto !== 'https:') {
    throw new ConnectorFailure('INSECURE_RELAY_URL', `the relay URL must be https:// or wss:// (got ${proto})`, EXIT_CODES.usage);
  }
  if (url.username || url.password) {
    throw new ConnectorFailure('INSECURE_RELAY_URL', 'the relay URL must not carry credentials', EXIT_CODES.usage);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !insecure) {
    throw new ConnectorFailure(
      'INSECURE_RELAY_URL',
      `refusing plain ${proto}// to the non-loopback relay ${url.host}: use https:// (wss://), or --insecure if you really mean it`,
      EXIT_CODES.usage,
    );
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** `http(s)://host/base` + path. */
export function relayHttpUrl(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return url;
}

/** The websocket URL of the connector socket. */
export function relaySocketUrl(base: URL, path: string): URL {
  const url = relayHttpUrl(base, path);
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}
