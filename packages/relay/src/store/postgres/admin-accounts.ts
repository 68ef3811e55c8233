import { randomBytes } from 'node:crypto';
import { newId, SluiceError } from '@sluice/shared-protocol';
import { ADMIN_ACCOUNT_COLUMNS as COLUMNS, adminAccountValues, toAdminAccount, type AdminAccountRow } from '../records.js';
import type { AdminAccountRecord, AdminSessionRecord } from '../relay-store.js';
import type { PgContext } from './context.js';

const UNIQUE_VIOLATION = '23505';

/** The `admin_accounts` and `admin_sessions` tables: who may approve OAuth clients, and their sign-ins. */
export class PgAdminAccounts {
  constructor(private readonly c: PgContext) {}

  async create(input: Omit<AdminAccountRecord, 'id' | 'createdAt'>): Promise<AdminAccountRecord> {
    const a: AdminAccountRecord = { ...input, id: newId('admin', (n) => randomBytes(n)), createdAt: this.c.now() };
    try {
      await this.c.pool.query(`INSERT INTO admin_accounts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, adminAccountValues(a));
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new SluiceError('BAD_REQUEST', `An admin named "${a.name}" already exists.`);
      throw err;
    }
    return a;
  }

  async find(name: string): Promise<AdminAccountRecord | undefined> {
    const r = await this.c.pool.query<AdminAccountRow>(`SELECT ${COLUMNS} FROM admin_accounts WHERE name = $1`, [name]);
    return r.rows[0] && toAdminAccount(r.rows[0]);
  }

  async get(id: string): Promise<AdminAccountRecord | undefined> {
    const r = await this.c.pool.query<AdminAccountRow>(`SELECT ${COLUMNS} FROM admin_accounts WHERE id = $1`, [id]);
    return r.rows[0] && toAdminAccount(r.rows[0]);
  }

  async list(): Promise<AdminAccountRecord[]> {
    return (await this.c.pool.query<AdminAccountRow>(`SELECT ${COLUMNS} FROM admin_accounts ORDER BY created_at, id`)).rows.map(toAdminAccount);
  }

  async createSession(s: AdminSessionRecord): Promise<void> {
    await this.c.pool.query('INSERT INTO admin_sessions (hash, admin_id, expires_at) VALUES ($1, $2, $3)', [s.hash, s.adminId, s.expiresAt]);
  }

  async findSession(hash: string, now: number): Promise<AdminSessionRecord | undefined> {
    const r = await this.c.pool.query<{ hash: string; admin_id: string; expires_at: number }>('SELECT hash, admin_id, expires_at FROM admin_sessions WHERE hash = $1 AND expires_at > $2', [hash, now]);
    const row = r.rows[0];
    return row && { hash: row.hash, adminId: row.admin_id, expiresAt: row.expires_at };
  }

  async deleteSession(hash: string): Promise<void> {
    await this.c.pool.query('DELETE FROM admin_sessions WHERE hash = $1', [hash]);
  }
}
