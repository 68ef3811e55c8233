import { appendOnlyTriggers, type Migration } from '@sluice/node-kit';

export type { Migration };

/** Append-only: released migrations are never edited. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orgs, tokens, instances, routing, audit',
    up: `
      CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, instance_allowlist TEXT,
        expires_at INTEGER, revoked_at INTEGER, last_used_at INTEGER, created_at INTEGER NOT NULL);
      CREATE INDEX tokens_org ON tokens(org_id);
      CREATE TABLE enrollment_tokens (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), hash TEXT NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL, used_at INTEGER, instance_id TEXT, created_at INTEGER NOT NULL);
      CREATE TABLE instances (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
        public_key TEXT, state TEXT NOT NULL CHECK (state IN ('active','disabled','revoked')),
        last_seen_at INTEGER, created_at INTEGER NOT NULL);
      CREATE INDEX instances_org ON instances(org_id);
      CREATE TABLE id_owners (
        org_id TEXT NOT NULL, id TEXT NOT NULL, instance_id TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, id)) WITHOUT ROWID;
      CREATE TABLE dispatch_keys (
        org_id TEXT NOT NULL, run_id TEXT NOT NULL, idem_key TEXT NOT NULL, input_hash TEXT NOT NULL,
        output TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, run_id, idem_key)) WITHOUT ROWID;
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, org_id TEXT, actor TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL, ip TEXT, detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX audit_org ON audit(org_id, seq);
    `,
  },
  {
    version: 2,
    name: 'revoked OAuth subjects; dispatch answers keep a step id, not the step',
    up: `
      CREATE TABLE oauth_revoked_subjects (
        issuer TEXT NOT NULL, subject TEXT NOT NULL, revoked_at INTEGER NOT NULL, revoked_by TEXT NOT NULL,
        PRIMARY KEY (issuer, subject)) WITHOUT ROWID;
      DROP TABLE dispatch_keys;
      CREATE TABLE dispatch_answers (
        org_id TEXT NOT NULL, run_id TEXT NOT NULL, idem_key TEXT NOT NULL, input_hash TEXT NOT NULL,
        step_id TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, run_id, idem_key)) WITHOUT ROWID;
      CREATE INDEX dispatch_answers_age ON dispatch_answers(created_at);
    `,
  },
  {
    version: 3,
    name: 'the audit table is append-only',
    up: appendOnlyTriggers('audit'),
  },
  {
    version: 4,
    name: 'built-in OAuth authorization server: records, grants, admin accounts and sessions',
    up: `
      CREATE TABLE oauth_records (
        model TEXT NOT NULL, id_hash TEXT NOT NULL, payload TEXT NOT NULL, grant_id TEXT, uid_hash TEXT,
        expires_at INTEGER, consumed_at INTEGER, PRIMARY KEY (model, id_hash));
      CREATE INDEX oauth_records_grant ON oauth_records(grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oauth_records_uid ON oauth_records(model, uid_hash) WHERE uid_hash IS NOT NULL;
      CREATE INDEX oauth_records_expiry ON oauth_records(expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE oauth_grants (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), client_id TEXT NOT NULL,
        client_name TEXT NOT NULL, scopes TEXT NOT NULL, instance_allowlist TEXT, approved_by TEXT NOT NULL,
        created_at INTEGER NOT NULL, revoked_at INTEGER);
      CREATE INDEX oauth_grants_org ON oauth_grants(org_id);
      CREATE TABLE admin_accounts (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, org_ids TEXT NOT NULL,
        scopes TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE admin_sessions (
        hash TEXT PRIMARY KEY, admin_id TEXT NOT NULL REFERENCES admin_accounts(id), expires_at INTEGER NOT NULL);
    `,
  },
  {
    version: 5,
    name: 'a dispatch claim names the process that holds it',
    up: 'ALTER TABLE dispatch_answers ADD COLUMN claimed_by TEXT;',
  },
];
