import { newOrg, orgNameTaken } from '../new-records.js';
import { toOrg, type OrgRow } from '../records.js';
import type { OrgRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `orgs` table. */
export class SqliteOrgs {
  constructor(private readonly c: SqliteContext) {}

  create(name: string): OrgRecord {
    const org = newOrg(name, this.c.now());
    try {
      this.c.stmts.get('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)').run(org.id, org.name, org.createdAt);
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw orgNameTaken(name);
      throw err;
    }
    return org;
  }

  get(id: string): OrgRecord | undefined {
    const r = this.c.stmts.get('SELECT id, name, created_at FROM orgs WHERE id = ?').get(id) as OrgRow | undefined;
    return r && toOrg(r);
  }

  list(): OrgRecord[] {
    return (this.c.stmts.get('SELECT id, name, created_at FROM orgs ORDER BY created_at, id').all() as OrgRow[]).map(toOrg);
  }
}
