import type { SqliteContext } from './context.js';

/** The `id_owners` table: which instance answers for a run, step or attempt id, per org. */
export class SqliteIdOwners {
  /** Owners never change once recorded, so a bounded in-memory copy is always right and saves a write per call. */
  private readonly owners = new Map<string, string>();

  constructor(private readonly c: SqliteContext) {}

  record(orgId: string, id: string, instanceId: string): void {
    const k = `${orgId}/${id}`;
    if (this.owners.has(k)) return;
    this.c.stmts.get('INSERT OR IGNORE INTO id_owners (org_id, id, instance_id, created_at) VALUES (?, ?, ?, ?)').run(orgId, id, instanceId, this.c.now());
    const stored = this.get(orgId, id);
    if (stored !== undefined) this.remember(k, stored);
  }

  get(orgId: string, id: string): string | undefined {
    const k = `${orgId}/${id}`;
    const cached = this.owners.get(k);
    if (cached !== undefined) return cached;
    const r = this.c.stmts.get('SELECT instance_id FROM id_owners WHERE org_id = ? AND id = ?').get(orgId, id) as { instance_id: string } | undefined;
    if (r) this.remember(k, r.instance_id);
    return r?.instance_id;
  }

  private remember(k: string, instanceId: string): void {
    if (this.owners.size >= 100_000) this.owners.clear();
    this.owners.set(k, instanceId);
  }
}
