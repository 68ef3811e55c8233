import { randomBytes } from 'node:crypto';
import type { ChallengeFrame } from '@sluice/shared-protocol';

const MAX_OUTSTANDING = 10_000;

interface Entry {
  instanceId: string;
  expiresAt: number;
  used: boolean;
}

export type ConsumeResult = 'ok' | 'unknown' | 'used' | 'expired' | 'wrong_instance';

/**
 * Single-use connector challenges. A nonce is remembered until it expires, so a second presentation is told apart
 * from a nonce this relay never issued. Bounded: the oldest entries go first when full.
 */
export class ChallengeBook {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Issue a challenge; the same answer shape whether or not the instance exists (no oracle). */
  issue(instanceId: string, relayOrigin: string): ChallengeFrame {
    const now = this.now();
    this.purge(now);
    const nonce = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.entries.set(nonce, { instanceId, expiresAt, used: false });
    return { type: 'challenge', nonce, relayOrigin, serverTime: now, expiresAt };
  }

  /** Use a nonce up: it can never verify again, whatever the outcome of the signature check. */
  consume(nonce: string, instanceId: string): ConsumeResult {
    const e = this.entries.get(nonce);
    if (!e) return 'unknown';
    if (e.used) return 'used';
    e.used = true;
    if (e.expiresAt <= this.now()) return 'expired';
    if (e.instanceId !== instanceId) return 'wrong_instance';
    return 'ok';
  }

  private purge(now: number): void {
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) this.entries.delete(k);
    }
    while (this.entries.size >= MAX_OUTSTANDING) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
