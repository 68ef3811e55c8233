import type { Authenticator } from '../auth/authenticator.js';
import { toSluiceError } from '@sluice/node-kit';

/** The credential of one open stream, as presented when it opened. */
export interface StreamCredential {
  authorization: string | undefined;
  ip: string | null;
  path: string;
}

/** A watched credential: `signal` aborts, with the refusal as its reason, once the credential no longer holds. */
export interface CredentialWatch {
  signal: AbortSignal;
  /** Authenticate again now (a poll must not start on a credential that no longer holds). */
  recheck(): Promise<void>;
  stop(): void;
}

/**
 * Open event streams and their credentials. A stream's credential is authenticated again on an interval (which
 * catches revocations by the CLI, another process, and expiries) and at once whenever this relay revokes
 * something itself; a failed check is audited by the authenticator and aborts the stream's signal.
 */
export class StreamGuards {
  private readonly rechecks = new Set<() => void>();

  constructor(
    private readonly auth: Authenticator,
    private readonly intervalMs: number,
  ) {}

  watch(credential: StreamCredential): CredentialWatch {
    const refused = new AbortController();
    let checking: Promise<void> | undefined;
    const check = async (): Promise<void> => {
      try {
        await this.auth.authenticate(credential.authorization, credential.ip, credential.path);
      } catch (err) {
        refused.abort(toSluiceError(err));
      }
    };
    const recheck = (): Promise<void> => (refused.signal.aborted ? Promise.resolve() : (checking ??= check().finally(() => (checking = undefined))));
    const onTick = (): void => void recheck();
    const timer = setInterval(onTick, this.intervalMs);
    this.rechecks.add(onTick);
    return {
      signal: refused.signal,
      recheck,
      stop: () => {
        clearInterval(timer);
        this.rechecks.delete(onTick);
      },
    };
  }

  /** Something was revoked in this process: every open stream re-checks now. */
  revoked(): void {
    for (const recheck of this.rechecks) recheck();
  }
}
