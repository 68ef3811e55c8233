import { randomBytes } from 'node:crypto';
import { newId, SluiceError } from '@sluice/shared-protocol';
import { ADMIN_ACCOUNT_COLUMNS as COLUMNS, adminAccountValues, toAdminAccount as toAccount, type AdminAccountRow as AccountRow } from '../records.js';
import type { AdminAccountRecord, AdminSessionRecord } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `admin_accounts` and `admin_sessions` tables: who may approve OAuth clients, and their sign-ins. */
export class SqliteAdminAccounts {
  constructor(private readonly c: SqliteContext) {}

  create(input: Omit<AdminAccountRecord, 'id' | 'createdAt'>): AdminAccountRecord {
    const a: AdminAccountRecord = { ...input, id: newId('admin', (n) => randomBytes(n)), createdAt: this.c.now() };
    try {
      this.c.stmts.get(`INSERT INTO admin_accounts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(...adminAccountValues(a));
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw new SluiceError('BAD_REQUEST', `An admin named "${a.name}" already exists.`);
      throw err;
    }
    return a;
  }

  find(name: string): AdminAccountRecord | undefined {
    const r = this.c.stmts.get(`SELECT ${COLUMNS} FROM admin_accounts WHERE name = ?`).get(name) as AccountRow | undefined;
    return r && toAccount(r);
  }

  get(id: string): AdminAccountRecord | undefined {
    const r = this.c.stmts.get(`SELECT ${COLUMNS} FROM admin_accounts WHERE id = ?`).get(id) as AccountRow | undefined;
    return r && toAccount(r);
  }

  list(): AdminAccountRecord[] {
    return (this.c.stmts.get(`SELECT ${COLUMNS} FROM admin_accounts ORDER BY created_at, id`).all() as AccountRow[]).map(toAccount);
  }

  createSession(s: AdminSessionRecord): void {
    this.c.stmts.get('INSERT INTO admin_sessions (hash, admin_id, expires_at) VALUES (?, ?, ?)').run(s.hash, s.adminId, s.expiresAt);
  }

  findSession(hash: string, now: number): AdminSessionRecord | undefined {
    const r = this.c.stmts.get('SELECT hash, admin_id, expires_at FROM admin_sessions WHERE hash = ? AND expires_at > ?').get(hash, now) as { hash: string; admin_id: string; expires_at: number } | undefined;
    return r && { hash: r.hash, adminId: r.admin_id, expiresAt: r.expires_at };
  }

  deleteSession(hash: string): void {
    this.c.stmts.get('DELETE FROM admin_sessions WHERE hash = ?').run(hash);
  }
}
