import { request as httpRequest } from 'node:http';
import type { Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpJsonOptions {
  method: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  /** PEM CA bundle to trust instead of the system store (HTTPS only). */
  ca?: string | undefined;
  timeoutMs: number;
  /** Largest response body read; a larger one fails with `tooLarge`. */
  maxBytes: number;
  /** Connection pool to use (plain HTTP only); default: Node's global agent. */
  agent?: Agent | undefined;
  /** Send the request over this Unix socket instead of the URL's host and port (plain HTTP only). */
  socketPath?: string | undefined;
}

export type HttpJsonResult =
  | { kind: 'response'; status: number; body: unknown; rawLength: number }
  | { kind: 'tooLarge'; status: number }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; message: string };

/**
 * One JSON request over HTTP or HTTPS (TLS always verified), bounded in time and size. Never throws: the caller
 * decides what each outcome means for the user.
 */
export function httpJson(url: URL, opts: HttpJsonOptions): Promise<HttpJsonResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: HttpJsonResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body), 'utf8');
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.byteLength);
    }
    const isHttps = url.protocol === 'https:';
    const req = (isHttps ? httpsRequest : httpRequest)(url, {
      method: opts.method,
      headers,
      ...(isHttps ? { ca: opts.ca, rejectUnauthorized: true } : { ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.socketPath ? { socketPath: opts.socketPath } : {}) }),
    });
    const timer = setTimeout(() => {
      done({ kind: 'timeout' });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'unreachable', message: err.code ? `${err.code}: ${err.message}` : err.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > opts.maxBytes) {
          done({ kind: 'tooLarge', status: res.statusCode ?? 0 });
          res.destroy();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => done({ kind: 'unreachable', message: err.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        if (text.length > 0) {
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
        }
        done({ kind: 'response', status: res.statusCode ?? 0, body, rawLength: size });
      });
    });
    req.end(payload);
  });
}
