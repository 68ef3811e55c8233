import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SluiceError } from '@sluice/shared-protocol';
import type { RateLimiter } from '../api/rate-limiter.js';
import type { RefusalAudit } from '../audit/refusal-audit.js';
import type { AdminAccountRecord, RelayStore } from '../store/relay-store.js';
import { hashSecret } from '../tokens/token-format.js';
import { hashPassword, verifyPassword } from './admin-password.js';

/** The cookie of a signed-in admin, valid on the consent pages only. */
export const ADMIN_COOKIE = 'sluice_admin';

export interface AdminSignInOptions {
  sessionTtlMs: number;
  now: () => number;
}

/**
 * Admin sign-in on the consent page: name and password (scrypt), sign-in attempts limited per name and per client
 * IP, sessions stored by the hash of their cookie, and CSRF tokens bound to the interaction and the session.
 */
export class AdminSignIn {
  private readonly csrfKey = randomBytes(32);
  /** Compared against when the name is unknown, so both cases cost the same. */
  private readonly decoy = hashPassword(randomBytes(16).toString('hex'));

  constructor(
    private readonly store: RelayStore,
    private readonly refusals: RefusalAudit,
    private readonly attempts: RateLimiter,
    private readonly opts: AdminSignInOptions,
  ) {}

  /** A new session secret for the cookie, or UNAUTHENTICATED / RATE_LIMITED (audited). */
  async signIn(name: string, password: string, ip: string): Promise<{ secret: string; admin: AdminAccountRecord }> {
    const over = this.attempts.take(`admin-name:${name.slice(0, 100)}`) ?? this.attempts.take(`admin-ip:${ip}`);
    if (over !== undefined) {
      this.refuse('RATE_LIMITED', name, ip);
      throw new SluiceError('RATE_LIMITED', `Too many sign-in attempts; retry in ${over} s.`);
    }
    const admin = await this.store.findAdminAccount(name);
    const ok = await verifyPassword(password, admin?.passwordHash ?? (await this.decoy));
    if (!admin || !ok) {
      this.refuse('UNAUTHENTICATED', name, ip);
      throw new SluiceError('UNAUTHENTICATED', 'Wrong admin name or password.');
    }
    const secret = randomBytes(32).toString('base64url');
    await this.store.createAdminSession({ hash: hashSecret(secret), adminId: admin.id, expiresAt: this.opts.now() + this.opts.sessionTtlMs });
    await this.store.appendAudit({ orgId: null, actor: `system:oauth-consent`, action: 'oauth.admin_sign_in', target: admin.id, outcome: 'ok', ip, detail: { name: admin.name } });
    return { secret, admin };
  }

  /** The admin of a session cookie, if it is a live session. */
  async current(secret: string | undefined): Promise<AdminAccountRecord | undefined> {
    if (!secret) return undefined;
    const session = await this.store.findAdminSession(hashSecret(secret), this.opts.now());
    return session && this.store.getAdminAccount(session.adminId);
  }

  /** The CSRF token of a form on the page of this interaction, for this session (or none yet). */
  csrfToken(uid: string, session: string | undefined): string {
    return createHmac('sha256', this.csrfKey).update(`${uid}\n${session ? hashSecret(session) : '-'}`).digest('base64url');
  }

  csrfValid(token: unknown, uid: string, session: string | undefined): boolean {
    if (typeof token !== 'string') return false;
    const want = Buffer.from(this.csrfToken(uid, session));
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private refuse(outcome: string, name: string, ip: string): void {
    this.refusals.record({ orgId: null, actor: 'system:oauth-consent', action: 'oauth.admin_sign_in', target: name.slice(0, 100), outcome, ip, detail: {} });
  }
}
