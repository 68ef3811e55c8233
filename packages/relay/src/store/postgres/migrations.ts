import type { Migration } from '@sluice/node-kit';

/**
 * Append-only, like the SQLite store's: released migrations are never edited. PostgreSQL has its own history
 * (its own SQL); `relay_schema` records each version applied.
 */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orgs, tokens, instances, routing, audit, revoked OAuth subjects, replica presence, forwarded calls and connector challenges',
    up: `
      CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, instance_allowlist TEXT,
        expires_at BIGINT, revoked_at BIGINT, last_used_at BIGINT, created_at BIGINT NOT NULL);
      CREATE INDEX tokens_org ON tokens(org_id);
      CREATE TABLE enrollment_tokens (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), hash TEXT NOT NULL UNIQUE,
        expires_at BIGINT NOT NULL, used_at BIGINT, instance_id TEXT, created_at BIGINT NOT NULL);
      CREATE TABLE instances (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
        public_key TEXT, state TEXT NOT NULL CHECK (state IN ('active','disabled','revoked')),
        last_seen_at BIGINT, created_at BIGINT NOT NULL);
      CREATE INDEX instances_org ON instances(org_id);
      CREATE TABLE id_owners (
        org_id TEXT NOT NULL, id TEXT NOT NULL, instance_id TEXT NOT NULL, created_at BIGINT NOT NULL,
        PRIMARY KEY (org_id, id));
      CREATE TABLE dispatch_answers (
        org_id TEXT NOT NULL, run_id TEXT NOT NULL, idem_key TEXT NOT NULL, input_hash TEXT NOT NULL,
        step_id TEXT, created_at BIGINT NOT NULL,
        PRIMARY KEY (org_id, run_id, idem_key));
      CREATE INDEX dispatch_answers_age ON dispatch_answers(created_at);
      CREATE TABLE oauth_revoked_subjects (
        issuer TEXT NOT NULL, subject TEXT NOT NULL, revoked_at BIGINT NOT NULL, revoked_by TEXT NOT NULL,
        PRIMARY KEY (issuer, subject));
      CREATE TABLE audit (
        seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, org_id TEXT, actor TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL, ip TEXT, detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX audit_org ON audit(org_id, seq);
      CREATE TABLE audit_head (only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row), seq BIGINT NOT NULL);
      INSERT INTO audit_head (seq) VALUES (0);
      CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit is append-only'; END $$;
      CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
      CREATE TABLE instance_presence (
        instance_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, replica_id TEXT NOT NULL, session_id TEXT NOT NULL,
        workspaces TEXT NOT NULL, connected_at BIGINT NOT NULL);
      CREATE INDEX instance_presence_org ON instance_presence(org_id);
      CREATE TABLE forwarded_calls (
        id TEXT PRIMARY KEY, to_replica TEXT NOT NULL, from_replica TEXT NOT NULL, instance_id TEXT NOT NULL,
        request TEXT NOT NULL, answer TEXT, created_at BIGINT NOT NULL);
      CREATE TABLE connector_challenges (
        nonce TEXT PRIMARY KEY, instance_id TEXT NOT NULL, expires_at BIGINT NOT NULL, used BOOLEAN NOT NULL DEFAULT FALSE);
      CREATE INDEX connector_challenges_age ON connector_challenges(expires_at);
    `,
  },
  {
    version: 2,
    name: 'built-in OAuth authorization server: records, grants, admin accounts and sessions',
    up: `
      CREATE TABLE oauth_records (
        seq BIGSERIAL UNIQUE, model TEXT NOT NULL, id_hash TEXT NOT NULL, payload TEXT NOT NULL, grant_id TEXT, uid_hash TEXT,
        expires_at BIGINT, consumed_at BIGINT, PRIMARY KEY (model, id_hash));
      CREATE INDEX oauth_records_grant ON oauth_records(grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oauth_records_uid ON oauth_records(model, uid_hash) WHERE uid_hash IS NOT NULL;
      CREATE INDEX oauth_records_expiry ON oauth_records(expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE oauth_grants (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), client_id TEXT NOT NULL,
        client_name TEXT NOT NULL, scopes TEXT NOT NULL, instance_allowlist TEXT, approved_by TEXT NOT NULL,
        created_at BIGINT NOT NULL, revoked_at BIGINT);
      CREATE INDEX oauth_grants_org ON oauth_grants(org_id);
      CREATE TABLE admin_accounts (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, org_ids TEXT NOT NULL,
        scopes TEXT NOT NULL, created_at BIGINT NOT NULL);
      CREATE TABLE admin_sessions (
        hash TEXT PRIMARY KEY, admin_id TEXT NOT NULL REFERENCES admin_accounts(id), expires_at BIGINT NOT NULL);
    `,
  },
  {
    version: 3,
    name: 'a dispatch claim names the replica that holds it',
    up: 'ALTER TABLE dispatch_answers ADD COLUMN claimed_by TEXT;',
  },
];
