import { randomBytes } from 'node:crypto';
import type { ChallengeFrame } from '@sluice/shared-protocol';

const MAX_OUTSTANDING = 10_000;

export interface ChallengeEntry {
  instanceId: string;
  expiresAt: number;
  used: boolean;
}

/** Where issued nonces live: this process's memory, or a table every replica reads (a challenge may be fetched from one and answered on another). */
export interface ChallengeLedger {
  add(nonce: string, entry: { instanceId: string; expiresAt: number }, now: number): Promise<void>;
  /** Mark the nonce used; resolves with the entry as it was before, or undefined for a nonce never issued. */
  use(nonce: string): Promise<ChallengeEntry | undefined>;
}

/** Bounded: the oldest entries go first when full. */
export class MemoryChallengeLedger implements ChallengeLedger {
  private readonly entries = new Map<string, ChallengeEntry>();

  async add(nonce: string, entry: { instanceId: string; expiresAt: number }, now: number): Promise<void> {
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) this.entries.delete(k);
    }
    while (this.entries.size >= MAX_OUTSTANDING) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(nonce, { ...entry, used: false });
  }

  async use(nonce: string): Promise<ChallengeEntry | undefined> {
    const e = this.entries.get(nonce);
    if (!e) return undefined;
    const before = { ...e };
    e.used = true;
    return before;
  }
}

export type ConsumeResult = 'ok' | 'unknown' | 'used' | 'expired' | 'wrong_instance';

/**
 * Single-use connector challenges. A nonce is remembered until it expires, so a second presentation is told apart
 * from a nonce this relay never issued.
 */
export class ChallengeBook {
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly ledger: ChallengeLedger = new MemoryChallengeLedger(),
  ) {}

  /** Issue a challenge; the same answer shape whether or not the instance exists (no oracle). */
  async issue(instanceId: string, relayOrigin: string): Promise<ChallengeFrame> {
    const now = this.now();
    const nonce = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    await this.ledger.add(nonce, { instanceId, expiresAt }, now);
    return { type: 'challenge', nonce, relayOrigin, serverTime: now, expiresAt };
  }

  /** Use a nonce up: it can never verify again, whatever the outcome of the signature check. */
  async consume(nonce: string, instanceId: string): Promise<ConsumeResult> {
    const e = await this.ledger.use(nonce);
    if (!e) return 'unknown';
    if (e.used) return 'used';
    if (e.expiresAt <= this.now()) return 'expired';
    if (e.instanceId !== instanceId) return 'wrong_instance';
    return 'ok';
  }
}
