import type { LiveOutcome, LiveRelay } from '../admin/admin-service.js';
import type { PostgresRelayStore } from '../store/postgres-store.js';

/** Every replica enforces an instance's state when this names it (the CLI's or another replica's change). */
export const INSTANCE_CHANGED_CHANNEL = 'sluice_instance_changed';

/**
 * The live side of a change made against a PostgreSQL database (the CLI): no socket next to a file, so every
 * replica is told through NOTIFY. Credential revocations are signalled by the store itself.
 */
export class ReplicaNotices implements LiveRelay {
  constructor(private readonly store: PostgresRelayStore) {}

  async instanceChanged(instanceId: string): Promise<LiveOutcome> {
    await this.store.bus.notify(INSTANCE_CHANGED_CHANNEL, instanceId);
    return { reached: false, why: 'every replica on this database was notified and closes its sessions' };
  }

  credentialsRevoked(): void {}
}
