import { toSubject, type SubjectRow } from '../records.js';
import type { RevokedOAuthSubject } from '../relay-store.js';
import type { SqliteContext } from './context.js';

/** The `oauth_revoked_subjects` table. */
export class SqliteOAuthSubjects {
  constructor(private readonly c: SqliteContext) {}

  revoke(issuer: string, subject: string, by: string): boolean {
    return this.c.stmts.get('INSERT OR IGNORE INTO oauth_revoked_subjects (issuer, subject, revoked_at, revoked_by) VALUES (?, ?, ?, ?)').run(issuer, subject, this.c.now(), by).changes === 1;
  }

  restore(issuer: string, subject: string): boolean {
    return this.c.stmts.get('DELETE FROM oauth_revoked_subjects WHERE issuer = ? AND subject = ?').run(issuer, subject).changes === 1;
  }

  isRevoked(issuer: string, subject: string): boolean {
    return this.c.stmts.get('SELECT 1 FROM oauth_revoked_subjects WHERE issuer = ? AND subject = ?').get(issuer, subject) !== undefined;
  }

  list(): RevokedOAuthSubject[] {
    const rows = this.c.stmts.get('SELECT issuer, subject, revoked_at, revoked_by FROM oauth_revoked_subjects ORDER BY revoked_at, issuer, subject').all() as SubjectRow[];
    return rows.map(toSubject);
  }
}
