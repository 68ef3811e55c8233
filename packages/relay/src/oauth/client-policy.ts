/** Bounds on client metadata, for registrations (DCR) and client metadata documents alike. */
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;
const MAX_NAME_LENGTH = 200;
const MAX_METADATA_BYTES = 8 * 1024;

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A redirect URI the relay accepts: HTTPS, or http on a loopback host (any port, for native clients); no fragment. */
export function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || uri.length > MAX_URI_LENGTH) return `redirect URIs are strings of at most ${MAX_URI_LENGTH} characters`;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'a redirect URI is not a URL';
  }
  if (u.hash) return 'a redirect URI must not have a fragment';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return undefined;
  return 'redirect URIs must be https:, or http: on a loopback host';
}

/** Why these redirect URIs are refused, or undefined. */
export function redirectUrisProblem(uris: unknown): string | undefined {
  if (!Array.isArray(uris) || uris.length === 0) return 'a client needs a redirect URI';
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) return problem;
  }
  return undefined;
}

/** Why this client metadata (its redirect URIs aside) is refused, or undefined. */
export function clientMetadataProblem(m: Record<string, unknown>): string | undefined {
  if (JSON.stringify(m).length > MAX_METADATA_BYTES) return `client metadata is larger than ${MAX_METADATA_BYTES} bytes`;
  if (Array.isArray(m.redirect_uris) && m.redirect_uris.length > MAX_REDIRECT_URIS) return `a client has at most ${MAX_REDIRECT_URIS} redirect URIs`;
  if (m.client_name !== undefined && (typeof m.client_name !== 'string' || m.client_name.length > MAX_NAME_LENGTH)) return `client_name is a string of at most ${MAX_NAME_LENGTH} characters`;
  return undefined;
}
