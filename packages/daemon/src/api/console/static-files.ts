import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SluiceError } from '@sluice/shared-protocol';

/** Where the console is mounted. */
export const CONSOLE_BASE = '/ui';

/**
 * Same-origin everything, no inline script or style, no framing, no plugins, no base or form retargeting: the page
 * can only talk to this daemon, and nothing it shows (agent output, diffs) can run as script.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const MEDIA: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface StaticFile {
  body: Buffer;
  type: string;
  /** Hashed asset names never change content; the page itself is always fetched again. */
  immutable: boolean;
}

/** The built console (`@sluice/console`'s dist/), or null when it was not built. */
export function defaultConsoleDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('@sluice/console/package.json');
    const dist = join(dirname(pkg), 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : null;
  } catch {
    return null;
  }
}

/** Every file of the build, read once: requests are answered from this map, never from a path they name. */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const type = MEDIA[extname(name)];
        if (!type) continue;
        const rel = relative(dir, full).split(sep).join('/');
        files.set(`${CONSOLE_BASE}/${rel}`, { body: readFileSync(full), type, immutable: rel.startsWith('assets/') });
      }
    }
  };
  walk(dir);
  return files;
}

/** Security headers on a console response. */
export function withConsoleHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers(SECURITY_HEADERS);
}

/** Serve the console's static files under `/ui`; a missing build answers `CONSOLE_NOT_BUILT`. */
export function registerConsoleFiles(app: FastifyInstance, dir: string | null): { isFile(path: string): boolean } {
  const files = dir ? loadFiles(dir) : new Map<string, StaticFile>();
  const index = files.get(`${CONSOLE_BASE}/index.html`);
  const send = (reply: FastifyReply, f: StaticFile) =>
    withConsoleHeaders(reply).header('content-type', f.type).header('cache-control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-store').send(f.body);
  app.get(CONSOLE_BASE, async (_req, reply) => reply.redirect(`${CONSOLE_BASE}/`, 302));
  app.get(`${CONSOLE_BASE}/*`, async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const file = path === `${CONSOLE_BASE}/` ? index : files.get(path);
    if (!index) throw new SluiceError('CONSOLE_NOT_BUILT');
    if (!file) throw new SluiceError('NOT_FOUND');
    return send(reply, file);
  });
  return { isFile: (path) => path === CONSOLE_BASE || path.startsWith(`${CONSOLE_BASE}/`) && !path.startsWith(`${CONSOLE_BASE}/api/`) };
}
