import { newOrg, orgNameTaken } from '../new-records.js';
import { toOrg, type OrgRow } from '../records.js';
import type { OrgRecord } from '../relay-store.js';
import type { PgContext } from './context.js';

const UNIQUE_VIOLATION = '23505';

/** The `orgs` table. */
export class PgOrgs {
  constructor(private readonly c: PgContext) {}

  async create(name: string): Promise<OrgRecord> {
    const org = newOrg(name, this.c.now());
    try {
      await this.c.pool.query('INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)', [org.id, org.name, org.createdAt]);
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw orgNameTaken(name);
      throw err;
    }
    return org;
  }

  async get(id: string): Promise<OrgRecord | undefined> {
    const r = (await this.c.pool.query<OrgRow>('SELECT id, name, created_at FROM orgs WHERE id = $1', [id])).rows[0];
    return r && toOrg(r);
  }

  async list(): Promise<OrgRecord[]> {
    return (await this.c.pool.query<OrgRow>('SELECT id, name, created_at FROM orgs ORDER BY created_at, id')).rows.map(toOrg);
  }
}
