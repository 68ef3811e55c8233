import { existsSync } from 'node:fs';
import { ensureHome, homePaths, readDaemonInfo, readToken, resolveHome, type HomePaths } from '../home/home.js';
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

/** Call the running daemon's API, or return null when no daemon answers. */
export async function callDaemon(home: HomePaths, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown } | null> {
  const info = readDaemonInfo(home);
  if (!info) return null;
  let res: Response;
  try {
    res = await fetch(`${info.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${readToken(home)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return null;
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Keep the text.
  }
  return { status: res.status, body: parsed };
}

/** Throw the daemon's `{code, message}` as a SluiceError-like failure. */
export function daemonFailure(r: { status: number; body: unknown }): never {
  const b = r.body as { code?: string; message?: string };
  const err = new Error(b?.message ?? `daemon answered ${r.status}`) as Error & { code?: string };
  err.code = b?.code ?? 'INTERNAL';
  throw err;
}

