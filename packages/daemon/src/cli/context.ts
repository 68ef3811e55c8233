import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { ensureHome, homePaths, readToken, resolveHome, type HomePaths } from '../home/home.js';
import { openDatabase, Store } from '../store/index.js';

/** The home the CLI works on (`SLUICE_HOME` or `~/.sluice`). */
export function cliHome(): HomePaths {
  return homePaths(resolveHome(process.env));
}

/** Open the ledger of a home for one command, closing it afterwards. */
export async function withStore<T>(fn: (store: Store, home: HomePaths) => Promise<T> | T): Promise<T> {
  const home = cliHome();
  if (!existsSync(home.db)) {
    ensureHome(home.root);
  }
  const store = new Store(openDatabase(home.db));
  try {
    return await fn(store, home);
  } finally {
    store.close();
  }
}

/**
 * Call the running daemon's API over the home socket, or return null when no daemon answers. Never over TCP: the
 * port in `daemon.json` may belong to someone else once the daemon is down, and the token must not go there.
 */
export async function callDaemon(home: HomePaths, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown } | null> {
  if (!existsSync(home.socket)) return null;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
  const headers: Record<string, string> = { authorization: `Bearer ${readToken(home)}` };
  if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.byteLength) });
  const answer = await new Promise<{ status: number; text: string } | null>((resolve) => {
    const req = request({ socketPath: home.socket, path, method, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end(payload);
  });
  if (!answer) return null;
  let parsed: unknown = answer.text;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    // Keep the text.
  }
  return { status: answer.status, body: parsed };
}

/** Throw the daemon's `{code, message}` as a SluiceError-like failure. */
export function daemonFailure(r: { status: number; body: unknown }): never {
  const b = r.body as { code?: string; message?: string };
  const err = new Error(b?.message ?? `daemon answered ${r.status}`) as Error & { code?: string };
  err.code = b?.code ?? 'INTERNAL';
  throw err;
}

