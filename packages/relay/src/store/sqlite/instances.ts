import { newEnrollmentToken, newInstance } from '../new-records.js';
import { toInstance, type InstanceRow } from '../records.js';
import type { InstanceRecord, InstanceState } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `instances` and `enrollment_tokens` tables: an enrollment token is spent exactly once, on one instance. */
export class SqliteInstances {
  constructor(private readonly c: SqliteContext) {}

  createEnrollmentToken(orgId: string, ttlMs: number): { id: string; secret: string; expiresAt: number } {
    const t = newEnrollmentToken(this.c.now(), ttlMs);
    this.c.stmts.get('INSERT INTO enrollment_tokens (id, org_id, hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?)').run(t.id, orgId, t.hash, t.expiresAt, t.createdAt);
    return { id: t.id, secret: t.secret, expiresAt: t.expiresAt };
  }

  enroll(hash: string, input: { name: string; publicKey: string }): InstanceRecord | undefined {
    return this.c.db
      .transaction((): InstanceRecord | undefined => {
        const now = this.c.now();
        const row = this.c.stmts.get('SELECT id, org_id FROM enrollment_tokens WHERE hash = ? AND used_at IS NULL AND expires_at > ?').get(hash, now) as
          | { id: string; org_id: string }
          | undefined;
        if (!row) return undefined;
        const instance = newInstance(row.org_id, input, now);
        this.c.stmts.get('UPDATE enrollment_tokens SET used_at = ?, instance_id = ? WHERE id = ?').run(now, instance.id, row.id);
        this.c.stmts
          .get('INSERT INTO instances (id, org_id, name, public_key, state, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(instance.id, instance.orgId, instance.name, instance.publicKey, instance.state, instance.createdAt);
        return instance;
      })
      .immediate();
  }

  get(id: string): InstanceRecord | undefined {
    const r = this.c.stmts.get('SELECT * FROM instances WHERE id = ?').get(id) as InstanceRow | undefined;
    return r && toInstance(r);
  }

  list(orgId?: string): InstanceRecord[] {
    const rows = (
      orgId === undefined
        ? this.c.stmts.get('SELECT * FROM instances ORDER BY created_at, id').all()
        : this.c.stmts.get('SELECT * FROM instances WHERE org_id = ? ORDER BY created_at, id').all(orgId)
    ) as InstanceRow[];
    return rows.map(toInstance);
  }

  setState(id: string, state: InstanceState): InstanceRecord | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    // A revoked instance stays revoked: its key is gone, so only a new enrollment brings it back.
    if (current.state === 'revoked') return current;
    if (state === 'revoked') this.c.stmts.get("UPDATE instances SET state = 'revoked', public_key = NULL WHERE id = ?").run(id);
    else this.c.stmts.get('UPDATE instances SET state = ? WHERE id = ?').run(state, id);
    return this.get(id);
  }

  rotateKey(id: string, from: string, to: string): boolean {
    return this.c.stmts.get("UPDATE instances SET public_key = ? WHERE id = ? AND public_key = ? AND state = 'active'").run(to, id, from).changes === 1;
  }

  touch(id: string, at: number): void {
    this.c.stmts.get('UPDATE instances SET last_seen_at = ? WHERE id = ?').run(at, id);
  }
}
