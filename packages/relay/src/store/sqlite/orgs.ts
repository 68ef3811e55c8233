import { randomBytes } from 'node:crypto';
import { newId, SluiceError } from '@sluice/shared-protocol';
import type { OrgRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

type OrgRow = { id: string; name: string; created_at: number };
const toOrg = (r: OrgRow): OrgRecord => ({ id: r.id, name: r.name, createdAt: r.created_at });

/** The `orgs` table. */
export class SqliteOrgs {
  constructor(private readonly c: SqliteContext) {}

  create(name: string): OrgRecord {
    const org = { id: newId('org', (n) => randomBytes(n)), name, createdAt: this.c.now() };
    try {
      this.c.stmts.get('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)').run(org.id, org.name, org.createdAt);
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw new SluiceError('BAD_REQUEST', `An org named "${name}" already exists.`);
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
