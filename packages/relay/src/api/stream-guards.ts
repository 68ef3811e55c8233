/**
 * The event streams open right now, each with a re-check of its caller's credential. A stream re-checks on its own
 * interval (which catches revocations by the CLI, another process, and expiries) and at once whenever this relay
 * revokes something itself.
 */
export class StreamGuards {
  private readonly rechecks = new Set<() => void>();

  /** Register a re-check; the returned function unregisters it. */
  watch(recheck: () => void): () => void {
    this.rechecks.add(recheck);
    return () => this.rechecks.delete(recheck);
  }

  /** Something was revoked in this process: every open stream re-checks now. */
  revoked(): void {
    for (const recheck of this.rechecks) recheck();
  }
}
