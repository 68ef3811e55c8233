import type { Event } from '@sluice/shared-protocol';

/** The signed-in session; its secret lives only in this module's memory (a reload signs out). */
export interface Session {
  sessionId: string;
  actor: string;
  expiresAt: string;
  secret: string;
}

/** Must equal the daemon's header name: the secret is both the second factor and the CSRF token. */
const SECRET_HEADER = 'x-sluice-console-secret';

let session: Session | null = null;
const signedOutListeners = new Set<(why: string) => void>();

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function currentSession(): Session | null {
  return session;
}

export function onSignedOut(fn: (why: string) => void): () => void {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}

function drop(why: string): void {
  session = null;
  for (const fn of signedOutListeners) fn(why);
}

async function failure(res: Response): Promise<ApiError> {
  let code = 'ERROR';
  let message = `HTTP ${res.status}`;
  try {
    const b = (await res.json()) as { code?: string; message?: string };
    code = b.code ?? code;
    message = b.message ?? message;
  } catch {
    // Not JSON: keep the status.
  }
  return new ApiError(res.status, code, message);
}

/** Redeem the one-time code from `sluice ui` for a session cookie and the in-memory secret. */
export async function signIn(code: string): Promise<Session> {
  const res = await fetch('/ui/api/session', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  if (!res.ok) throw await failure(res);
  session = (await res.json()) as Session;
  return session;
}

/** One authenticated call to the daemon; a refused session signs the page out. */
export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  if (!session) throw new ApiError(401, 'CONSOLE_SESSION_INVALID', 'Not signed in.');
  const headers: Record<string, string> = { [SECRET_HEADER]: session.secret };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, credentials: 'same-origin', headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401) drop(err.message);
    throw err;
  }
  return (await res.json()) as T;
}

/** Call a verb of the daemon's table; the daemon records the signed-in operator as the actor. */
export function verb<T>(name: string, input: Record<string, unknown>): Promise<T> {
  return api<T>('POST', `/api/v1/verbs/${name}`, input);
}

export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/ui/api/session');
  } finally {
    drop('Signed out.');
  }
}

/**
 * Follow the ledger's server-sent events with fetch (EventSource cannot send the secret header, and the secret
 * must never be in a URL). Reconnects after a drop, resuming after the last event seen.
 */
export function followEvents(onEvent: (e: Event) => void, onState: (live: boolean) => void): () => void {
  const ctl = new AbortController();
  let lastId: string | null = null;
  const once = async () => {
    const s = session;
    if (!s) return;
    const headers: Record<string, string> = { [SECRET_HEADER]: s.secret, accept: 'text/event-stream' };
    if (lastId) headers['last-event-id'] = lastId;
    const res = await fetch('/api/v1/events/stream', { credentials: 'same-origin', headers, signal: ctl.signal });
    if (!res.ok || !res.body) {
      const err = await failure(res);
      if (res.status === 401) drop(err.message);
      throw err;
    }
    onState(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        let id: string | null = null;
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (id) lastId = id;
        if (data) onEvent(JSON.parse(data) as Event);
      }
    }
  };
  void (async () => {
    let delay = 500;
    while (!ctl.signal.aborted && session) {
      try {
        await once();
        delay = 500;
      } catch {
        // Dropped or refused: wait, then resume after the last event.
      }
      onState(false);
      if (ctl.signal.aborted || !session) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  })();
  return () => ctl.abort();
}
