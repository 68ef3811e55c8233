import { newEnrollmentToken, newInstance } from '../new-records.js';
import { toInstance, type InstanceRow } from '../records.js';
import type { InstanceRecord, InstanceState } from '../relay-store.js';
import { inTransaction, type PgContext } from './context.js';

/** The `instances` and `enrollment_tokens` tables: an enrollment token is spent exactly once, on one instance. */
export class PgInstances {
  constructor(private readonly c: PgContext) {}

  async createEnrollmentToken(orgId: string, ttlMs: number): Promise<{ id: string; secret: string; expiresAt: number }> {
    const t = newEnrollmentToken(this.c.now(), ttlMs);
    await this.c.pool.query('INSERT INTO enrollment_tokens (id, org_id, hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)', [t.id, orgId, t.hash, t.expiresAt, t.createdAt]);
    return { id: t.id, secret: t.secret, expiresAt: t.expiresAt };
  }

  /** The conditional UPDATE takes the row lock: a concurrent spend (any replica) waits, re-checks `used_at` and loses. */
  enroll(hash: string, input: { name: string; publicKey: string }): Promise<InstanceRecord | undefined> {
    return inTransaction(this.c.pool, async (client) => {
      const now = this.c.now();
      const spent = await client.query<{ id: string; org_id: string }>(
        'UPDATE enrollment_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING id, org_id',
        [now, hash],
      );
      const row = spent.rows[0];
      if (!row) return undefined;
      const instance = newInstance(row.org_id, input, now);
      await client.query('UPDATE enrollment_tokens SET instance_id = $1 WHERE id = $2', [instance.id, row.id]);
      await client.query('INSERT INTO instances (id, org_id, name, public_key, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        instance.id,
        instance.orgId,
        instance.name,
        instance.publicKey,
        instance.state,
        instance.createdAt,
      ]);
      return instance;
    });
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    const r = (await this.c.pool.query<InstanceRow>('SELECT * FROM instances WHERE id = $1', [id])).rows[0];
    return r && toInstance(r);
  }

  async list(orgId?: string): Promise<InstanceRecord[]> {
    const res =
      orgId === undefined
        ? await this.c.pool.query<InstanceRow>('SELECT * FROM instances ORDER BY created_at, id')
        : await this.c.pool.query<InstanceRow>('SELECT * FROM instances WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
    return res.rows.map(toInstance);
  }

  /** A revoked instance stays revoked: its key is gone, so only a new enrollment brings it back. */
  async setState(id: string, state: InstanceState): Promise<InstanceRecord | undefined> {
    const sql =
      state === 'revoked'
        ? "UPDATE instances SET state = 'revoked', public_key = NULL WHERE id = $1 AND state <> 'revoked' RETURNING *"
        : "UPDATE instances SET state = $2 WHERE id = $1 AND state <> 'revoked' RETURNING *";
    const r = (await this.c.pool.query<InstanceRow>(sql, state === 'revoked' ? [id] : [id, state])).rows[0];
    return r ? toInstance(r) : this.get(id);
  }

  async rotateKey(id: string, from: string, to: string): Promise<boolean> {
    return (await this.c.pool.query("UPDATE instances SET public_key = $1 WHERE id = $2 AND public_key = $3 AND state = 'active'", [to, id, from])).rowCount === 1;
  }

  async touch(id: string, at: number): Promise<void> {
    await this.c.pool.query('UPDATE instances SET last_seen_at = $1 WHERE id = $2', [at, id]);
  }
}
