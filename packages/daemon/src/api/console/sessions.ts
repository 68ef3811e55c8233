import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SluiceError, type ConsoleSession } from '@sluice/shared-protocol';
import type { AuditInput, Store } from '../../store/index.js';

/** The session cookie: `HttpOnly`, `SameSite=Strict`; never enough on its own. */
export const CONSOLE_COOKIE = 'sluice_console';
/** The per-session secret the page keeps in memory and sends on every call; it is the CSRF token as well. */
export const CONSOLE_SECRET_HEADER = 'x-sluice-console-secret';
/** How long a sign-in link printed by `sluice ui` can be used (once). */
export const SIGN_IN_CODE_TTL_MS = 2 * 60_000;
/** How long a console session lasts. */
export const CONSOLE_SESSION_TTL_MS = 12 * 60 * 60_000;
/** `last_seen_at` is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;

interface SessionRow {
  session_id: string;
  secret_sha256: string;
  actor: string;
  user_agent: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  revoked_at: string | null;
}

function sha256hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function token(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function toSession(r: SessionRow): ConsoleSession {
  return { sessionId: r.session_id, actor: r.actor, userAgent: r.user_agent, createdAt: r.created_at, expiresAt: r.expires_at, lastSeenAt: r.last_seen_at, revokedAt: r.revoked_at };
}

/**
 * One-time sign-in codes (in memory: they live two minutes and only this process can redeem them) and console
 * sessions (in `state.db`, hashed, so a copy of the database signs nobody in). Every change is audited.
 */
export class ConsoleSessions {
  private readonly codes = new Map<string, { expiresAt: number; actor: string }>();

  constructor(
    private readonly store: Store,
    /** Refused codes go through the refusal throttle, so a local flood cannot grow the audit table without bound. */
    private readonly refused: (row: AuditInput, from: string) => void = (row) => store.audit(row),
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A fresh single-use sign-in code for `actor`. */
  issueCode(actor: string): { code: string; expiresAt: string } {
    this.dropExpiredCodes();
    const code = token(24);
    const expiresAt = this.now() + SIGN_IN_CODE_TTL_MS;
    this.codes.set(sha256hex(code), { expiresAt, actor });
    this.store.audit({ actor, action: 'console.link_issued', target: null, outcome: 'ok', details: { expiresAt: new Date(expiresAt).toISOString() } });
    return { code, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Redeem a code (once) for a session: the cookie value and the page's secret are returned here and never again. */
  exchange(code: string, userAgent: string, from = 'local'): { session: ConsoleSession; cookie: string; secret: string } {
    this.dropExpiredCodes();
    const key = sha256hex(code);
    const issued = this.codes.get(key);
    this.codes.delete(key);
    if (!issued) {
      this.refused({ actor: 'system:console', action: 'console.sign_in', target: null, outcome: 'CONSOLE_CODE_INVALID', details: { codeSha256: key, ip: from } }, from);
      throw new SluiceError('CONSOLE_CODE_INVALID');
    }
    const cookie = token(32);
    const secret = token(32);
    const at = new Date(this.now());
    const row: SessionRow = {
      session_id: `cs_${randomBytes(10).toString('hex')}`,
      secret_sha256: sha256hex(secret),
      actor: issued.actor,
      user_agent: userAgent.slice(0, 300),
      created_at: at.toISOString(),
      expires_at: new Date(at.getTime() + CONSOLE_SESSION_TTL_MS).toISOString(),
      last_seen_at: at.toISOString(),
      revoked_at: null,
    };
    this.store.transaction(() => {
      this.store.db
        .prepare('INSERT INTO console_sessions (session_id, cookie_sha256, secret_sha256, actor, user_agent, created_at, expires_at, last_seen_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)')
        .run(row.session_id, sha256hex(cookie), row.secret_sha256, row.actor, row.user_agent, row.created_at, row.expires_at, row.last_seen_at);
      this.store.audit({ actor: row.actor, action: 'console.sign_in', target: row.session_id, outcome: 'ok', details: { userAgent: row.user_agent } });
    });
    return { session: toSession(row), cookie, secret };
  }

  /** The live session both the cookie and the secret belong to, or null. */
  authenticate(cookie: string, secret: string): ConsoleSession | null {
    const row = this.store.db.prepare('SELECT * FROM console_sessions WHERE cookie_sha256 = ?').get(sha256hex(cookie)) as SessionRow | undefined;
    if (!row) return null;
    const secretOk = timingSafeEqual(Buffer.from(sha256hex(secret)), Buffer.from(row.secret_sha256));
    const nowMs = this.now();
    if (!secretOk || row.revoked_at !== null || Date.parse(row.expires_at) <= nowMs) return null;
    if (nowMs - Date.parse(row.last_seen_at) >= TOUCH_EVERY_MS) {
      row.last_seen_at = new Date(nowMs).toISOString();
      this.store.db.prepare('UPDATE console_sessions SET last_seen_at = ? WHERE session_id = ?').run(row.last_seen_at, row.session_id);
    }
    return toSession(row);
  }

  /** Sessions not yet expired (revoked ones included, marked), newest first. */
  list(): ConsoleSession[] {
    const rows = this.store.db.prepare('SELECT * FROM console_sessions WHERE expires_at > ? ORDER BY created_at DESC, session_id').all(new Date(this.now()).toISOString()) as SessionRow[];
    return rows.map(toSession);
  }

  /** Revoke a session; false when there is no such live session. */
  revoke(sessionId: string, actor: string, via: 'console' | 'cli' | 'sign_out'): boolean {
    return this.store.transaction(() => {
      const changed = this.store.db.prepare('UPDATE console_sessions SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL').run(new Date(this.now()).toISOString(), sessionId).changes;
      this.store.audit({ actor, action: via === 'sign_out' ? 'console.sign_out' : 'console.revoke', target: sessionId, outcome: changed > 0 ? 'ok' : 'CONSOLE_SESSION_NOT_FOUND', details: { via } });
      return changed > 0;
    });
  }

  private dropExpiredCodes(): void {
    const nowMs = this.now();
    for (const [k, v] of this.codes) if (v.expiresAt <= nowMs) this.codes.delete(k);
  }
}
