import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '@sluice/shared-protocol';
import { hashSecret } from '../src/tokens/token-format.js';
import type { Scope } from '@sluice/shared-protocol';
import type { OAuthRecord, RelayStore } from '../src/index.js';

/** A fresh, empty store on a clock the suite controls, and a way to open the same data again. */
export interface StoreUnderTest {
  store: RelayStore;
  /** Open the same data with another store object (a second process, a restart). */
  reopen(): Promise<RelayStore>;
  /** Mark the stored schema as written by a newer build, then return how opening it fails. */
  openAsNewerSchema(): Promise<unknown>;
  /** Edit an audit row behind the store's back, as an operator with database access could. */
  tamperAuditRow(seq: number): Promise<void>;
  /** Try to change an audit row with the store's own connection; resolves to the error. */
  updateAuditRow(seq: number): Promise<unknown>;
  /** Leave a dispatch claim held by another live process or replica; `end` makes that holder go away (as kill -9 would). */
  holdClaim(orgId: string, runId: string, key: string, inputHash: string): Promise<{ end(): Promise<void> }>;
  cleanup(): Promise<void>;
}

export type MakeStore = (clock: { now: number }) => Promise<StoreUnderTest>;

const KEY = 'A'.repeat(43);
const OTHER_KEY = 'B'.repeat(43);

/**
 * The contract of `RelayStore`, run against one adapter. Every adapter (SQLite, PostgreSQL) passes it unchanged;
 * a second store object on the same data stands for a second process or replica.
 */
export function describeRelayStore(name: string, makeStore: MakeStore): void {
  describe(`RelayStore contract: ${name}`, () => {
    const clock = { now: Date.UTC(2026, 10, 1) };
    let s: StoreUnderTest;
    let store: RelayStore;

    beforeEach(async () => {
      clock.now = Date.UTC(2026, 10, 1);
      s = await makeStore(clock);
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    const enrolled = async (orgId: string, name = 'laptop', publicKey = KEY) => {
      const enr = await store.createEnrollmentToken(orgId, 60_000);
      return (await store.enroll(hashSecret(enr.secret), { name, publicKey }))!;
    };

    it('creates, finds and lists orgs; names are unique', async () => {
      const a = await store.createOrg('acme');
      expect(await store.getOrg(a.id)).toEqual(a);
      expect(await store.getOrg('org_missing')).toBeUndefined();
      await expect(store.createOrg('acme')).rejects.toThrow(SluiceError);
      const b = await store.createOrg('beta');
      expect((await store.listOrgs()).map((o) => o.id)).toEqual([a.id, b.id]);
    });

    it('keeps only the hash of a token secret and finds the token by that hash', async () => {
      const org = await store.createOrg('acme');
      const { record, secret } = await store.createToken({ orgId: org.id, name: 'ci', scopes: ['runs:read', 'runs:read'] });
      expect(record.hash).toBe(hashSecret(secret));
      expect(record.hash).not.toContain(secret);
      expect(record.scopes).toEqual(['runs:read']);
      expect(await store.findTokenByHash(hashSecret(secret))).toEqual(record);
      expect(await store.findTokenByHash(hashSecret(`${secret}x`))).toBeUndefined();
      await expect(store.createToken({ orgId: 'org_missing', name: 'x', scopes: ['runs:read'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('keeps tokens of one org apart from those of another', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      const ta = await store.createToken({ orgId: a.id, name: 'a', scopes: ['runs:read'] });
      await store.createToken({ orgId: b.id, name: 'b', scopes: ['runs:read'] });
      expect((await store.listTokens(a.id)).map((t) => t.id)).toEqual([ta.record.id]);
      expect(await store.listTokens()).toHaveLength(2);
      expect(await store.revokeAllTokens(b.id)).toBe(1);
      expect((await store.findTokenByHash(ta.record.hash))!.revokedAt).toBeNull();
    });

    it('revokes a token once, visibly to a second store object', async () => {
      const org = await store.createOrg('acme');
      const { record } = await store.createToken({ orgId: org.id, name: 'ci', scopes: ['runs:read'] });
      expect(await store.revokeToken(record.id)).toBe(true);
      expect(await store.revokeToken(record.id)).toBe(false);
      expect((await store.findTokenByHash(record.hash))!.revokedAt).toBe(clock.now);
      const other = await s.reopen();
      try {
        expect((await other.findTokenByHash(record.hash))!.revokedAt).toBe(clock.now);
      } finally {
        await other.close();
      }
    });

    it('stores the expiry and the last use of a token', async () => {
      const org = await store.createOrg('acme');
      const { record } = await store.createToken({ orgId: org.id, name: 'ci', scopes: ['runs:read'], expiresAt: clock.now + 1000 });
      expect(record.expiresAt).toBe(clock.now + 1000);
      await store.touchToken(record.id, clock.now + 5);
      expect((await store.listTokens(org.id))[0]!.lastUsedAt).toBe(clock.now + 5);
    });

    it('refuses an instance allowlist on org-wide scopes or naming an instance of another org', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      const foreign = await enrolled(b.id);
      await expect(store.createToken({ orgId: a.id, name: 'x', scopes: ['admin'], instanceAllowlist: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(store.createToken({ orgId: a.id, name: 'x', scopes: ['runs:read'], instanceAllowlist: [foreign.id] })).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    });

    it('spends an enrollment token exactly once, even under concurrent calls', async () => {
      const org = await store.createOrg('acme');
      const enr = await store.createEnrollmentToken(org.id, 60_000);
      const hash = hashSecret(enr.secret);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.enroll(hash, { name: `n${i}`, publicKey: KEY })));
      const made = results.filter((r) => r !== undefined);
      expect(made).toHaveLength(1);
      expect(made[0]).toMatchObject({ orgId: org.id, state: 'active', publicKey: KEY });
      expect(await store.listInstances(org.id)).toHaveLength(1);
      const other = await s.reopen();
      try {
        expect(await other.enroll(hash, { name: 'again', publicKey: KEY })).toBeUndefined();
      } finally {
        await other.close();
      }
    });

    it('refuses an expired enrollment token and one of an unknown org', async () => {
      const org = await store.createOrg('acme');
      const enr = await store.createEnrollmentToken(org.id, 1000);
      clock.now += 1000;
      expect(await store.enroll(hashSecret(enr.secret), { name: 'late', publicKey: KEY })).toBeUndefined();
      await expect(store.createEnrollmentToken('org_missing', 1000)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('disables, enables and revokes instances; a revoked one stays revoked and loses its key', async () => {
      const org = await store.createOrg('acme');
      const inst = await enrolled(org.id);
      expect((await store.setInstanceState(inst.id, 'disabled'))!.state).toBe('disabled');
      expect((await store.setInstanceState(inst.id, 'active'))!.state).toBe('active');
      expect(await store.setInstanceState(inst.id, 'revoked')).toMatchObject({ state: 'revoked', publicKey: null });
      expect((await store.setInstanceState(inst.id, 'active'))!.state).toBe('revoked');
      expect(await store.setInstanceState('ins_missing', 'active')).toBeUndefined();
      await store.touchInstance(inst.id, clock.now + 7);
      expect((await store.getInstance(inst.id))!.lastSeenAt).toBe(clock.now + 7);
    });

    it('rotates an instance key only from the current key of an active instance', async () => {
      const org = await store.createOrg('acme');
      const inst = await enrolled(org.id);
      expect(await store.rotateInstanceKey(inst.id, OTHER_KEY, KEY)).toBe(false);
      expect(await store.rotateInstanceKey(inst.id, KEY, OTHER_KEY)).toBe(true);
      expect((await store.getInstance(inst.id))!.publicKey).toBe(OTHER_KEY);
      await store.setInstanceState(inst.id, 'disabled');
      expect(await store.rotateInstanceKey(inst.id, OTHER_KEY, KEY)).toBe(false);
    });

    it('lists instances per org', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      const ia = await enrolled(a.id);
      await enrolled(b.id);
      expect((await store.listInstances(a.id)).map((i) => i.id)).toEqual([ia.id]);
      expect(await store.listInstances()).toHaveLength(2);
    });

    it('records the first owner of an id, per org', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      await store.recordOwner(a.id, 'run_x', 'ins_1');
      await store.recordOwner(a.id, 'run_x', 'ins_2');
      expect(await store.getOwner(a.id, 'run_x')).toBe('ins_1');
      expect(await store.getOwner(b.id, 'run_x')).toBeUndefined();
      await store.recordOwner(b.id, 'run_x', 'ins_3');
      expect(await store.getOwner(b.id, 'run_x')).toBe('ins_3');
      const other = await s.reopen();
      try {
        expect(await other.getOwner(a.id, 'run_x')).toBe('ins_1');
      } finally {
        await other.close();
      }
    });

    it('keeps a dispatch answer per (org, run, key) for its TTL only', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      const answer = { inputHash: 'h1', stepId: 'stp_1' };
      await store.putDispatchAnswer(a.id, 'run_1', 'k', answer, 10_000);
      expect(await store.getDispatchAnswer(a.id, 'run_1', 'k', 10_000)).toEqual(answer);
      expect(await store.getDispatchAnswer(b.id, 'run_1', 'k', 10_000)).toBeUndefined();
      expect(await store.getDispatchAnswer(a.id, 'run_2', 'k', 10_000)).toBeUndefined();
      clock.now += 10_000;
      expect(await store.getDispatchAnswer(a.id, 'run_1', 'k', 10_000)).toBeUndefined();
      await store.putDispatchAnswer(a.id, 'run_1', 'k', { inputHash: 'h2', stepId: 'stp_2' }, 10_000);
      expect(await store.getDispatchAnswer(a.id, 'run_1', 'k', 10_000)).toEqual({ inputHash: 'h2', stepId: 'stp_2' });
    });

    it('takes over at once a dispatch claim whose holder is gone, never one whose holder lives', async () => {
      const a = await store.createOrg('acme');
      const opts = { ttlMs: 10_000, staleMs: 60_000 };
      const holder = await s.holdClaim(a.id, 'run_1', 'k', 'h1');
      expect(await store.claimDispatch(a.id, 'run_1', 'k', 'h1', opts)).toEqual({ inputHash: 'h1', stepId: null });
      await holder.end();
      expect(await store.claimDispatch(a.id, 'run_1', 'k', 'h1', opts)).toBe(true);
      expect(await store.claimDispatch(a.id, 'run_1', 'k', 'h1', opts)).toEqual({ inputHash: 'h1', stepId: null });
    });

    it('lets one caller claim a dispatch key, also across store objects; a stale claim or an expired answer is claimed again', async () => {
      const a = await store.createOrg('acme');
      const opts = { ttlMs: 10_000, staleMs: 1000 };
      const other = await s.reopen();
      try {
        const both = await Promise.all([store.claimDispatch(a.id, 'run_1', 'k', 'h1', opts), other.claimDispatch(a.id, 'run_1', 'k', 'h1', opts)]);
        expect(both.filter((c) => c === true)).toHaveLength(1);
        expect(both.find((c) => c !== true)).toEqual({ inputHash: 'h1', stepId: null });
        expect(await store.getDispatchAnswer(a.id, 'run_1', 'k', opts.ttlMs)).toBeUndefined();
        await store.putDispatchAnswer(a.id, 'run_1', 'k', { inputHash: 'h1', stepId: 'stp_1' }, opts.ttlMs);
        expect(await other.claimDispatch(a.id, 'run_1', 'k', 'h2', opts)).toEqual({ inputHash: 'h1', stepId: 'stp_1' });
        clock.now += opts.ttlMs;
        expect(await other.claimDispatch(a.id, 'run_1', 'k', 'h2', opts)).toBe(true);
        clock.now += opts.staleMs - 1;
        expect(await store.claimDispatch(a.id, 'run_1', 'k', 'h3', opts)).toEqual({ inputHash: 'h2', stepId: null });
        clock.now += 1;
        expect(await store.claimDispatch(a.id, 'run_1', 'k', 'h3', opts)).toBe(true);
        await other.releaseDispatch(a.id, 'run_1', 'k', 'h2');
        expect(await other.claimDispatch(a.id, 'run_1', 'k', 'h4', opts)).toEqual({ inputHash: 'h3', stepId: null });
        await store.releaseDispatch(a.id, 'run_1', 'k', 'h3');
        expect(await other.claimDispatch(a.id, 'run_1', 'k', 'h4', opts)).toBe(true);
      } finally {
        await other.close();
      }
    });

    it('spends an enrollment token once when two store objects race for it', async () => {
      const org = await store.createOrg('acme');
      const enr = await store.createEnrollmentToken(org.id, 60_000);
      const other = await s.reopen();
      try {
        const hash = hashSecret(enr.secret);
        const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).enroll(hash, { name: `n${i}`, publicKey: KEY })));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        expect(await other.listInstances(org.id)).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    it('revokes and restores OAuth subjects', async () => {
      expect(await store.revokeOAuthSubject('https://idp', 'alice', 'local:op')).toBe(true);
      expect(await store.revokeOAuthSubject('https://idp', 'alice', 'local:op')).toBe(false);
      expect(await store.isOAuthSubjectRevoked('https://idp', 'alice')).toBe(true);
      expect(await store.isOAuthSubjectRevoked('https://other', 'alice')).toBe(false);
      const other = await s.reopen();
      try {
        expect(await other.isOAuthSubjectRevoked('https://idp', 'alice')).toBe(true);
      } finally {
        await other.close();
      }
      expect(await store.listRevokedOAuthSubjects()).toEqual([{ issuer: 'https://idp', subject: 'alice', revokedAt: clock.now, revokedBy: 'local:op' }]);
      expect(await store.restoreOAuthSubject('https://idp', 'alice')).toBe(true);
      expect(await store.restoreOAuthSubject('https://idp', 'alice')).toBe(false);
      expect(await store.isOAuthSubjectRevoked('https://idp', 'alice')).toBe(false);
    });

    it('keeps authorization server records by id hash: upsert, expiry, consume once, per grant, sweep', async () => {
      const rec = (model: string, id: string, over: Partial<Omit<OAuthRecord, 'consumedAt'>> = {}) => ({ model, idHash: hashSecret(id), payload: { kind: model, n: 1 }, grantId: null, uidHash: null, expiresAt: null, ...over });
      await store.putOAuthRecord(rec('AccessToken', 'at1', { grantId: 'g1', expiresAt: clock.now + 1000 }));
      await store.putOAuthRecord(rec('RefreshToken', 'rt1', { grantId: 'g1' }));
      await store.putOAuthRecord(rec('AccessToken', 'at2', { grantId: 'g2' }));
      await store.putOAuthRecord(rec('Session', 's1', { uidHash: hashSecret('uid1') }));
      await store.putOAuthRecord(rec('AccessToken', 'at1', { grantId: 'g1', payload: { kind: 'AccessToken', n: 2 }, expiresAt: clock.now + 1000 }));
      expect(await store.getOAuthRecord('AccessToken', hashSecret('at1'))).toEqual({ ...rec('AccessToken', 'at1', { grantId: 'g1', expiresAt: clock.now + 1000 }), payload: { kind: 'AccessToken', n: 2 }, consumedAt: null });
      expect(await store.getOAuthRecord('RefreshToken', hashSecret('at1'))).toBeUndefined();
      expect((await store.getOAuthRecordByUid('Session', hashSecret('uid1')))?.idHash).toBe(hashSecret('s1'));
      expect(await store.consumeOAuthRecord('RefreshToken', hashSecret('rt1'), clock.now + 5)).toBe(true);
      expect(await store.consumeOAuthRecord('RefreshToken', hashSecret('rt1'), clock.now + 6)).toBe(false);
      expect((await store.getOAuthRecord('RefreshToken', hashSecret('rt1')))!.consumedAt).toBe(clock.now + 5);
      expect(await store.deleteOAuthRecordsOfGrant('g1')).toBe(2);
      expect(await store.getOAuthRecord('AccessToken', hashSecret('at2'))).toBeDefined();
      await store.putOAuthRecord(rec('Client', 'c1', { expiresAt: clock.now + 100 }));
      expect((await store.listOAuthRecords('Client')).map((r) => r.idHash)).toEqual([hashSecret('c1')]);
      clock.now += 200;
      expect(await store.listOAuthRecords('Client')).toEqual([]);
      expect(await store.setOAuthRecordExpiry('Client', hashSecret('c1'), null)).toBe(true);
      expect(await store.listOAuthRecords('Client')).toHaveLength(1);
      await store.putOAuthRecord(rec('Interaction', 'i1', { expiresAt: clock.now - 1 }));
      expect(await store.deleteExpiredOAuthRecords(clock.now)).toBe(1);
      await store.deleteOAuthRecord('Client', hashSecret('c1'));
      expect(await store.getOAuthRecord('Client', hashSecret('c1'))).toBeUndefined();
      const other = await s.reopen();
      try {
        expect((await other.getOAuthRecord('AccessToken', hashSecret('at2')))?.grantId).toBe('g2');
      } finally {
        await other.close();
      }
    });

    it('records OAuth grants of an org, refuses foreign instances, revokes once', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      const insB = await enrolled(b.id);
      const input = { id: 'grant1', orgId: a.id, clientId: 'https://client.example/c.json', clientName: 'Client', scopes: ['runs:write', 'runs:read', 'runs:read'] as Scope[], instanceAllowlist: null, approvedBy: 'adm_1' };
      const g = await store.createOAuthGrant(input);
      expect(g).toEqual({ ...input, scopes: ['runs:read', 'runs:write'], createdAt: clock.now, revokedAt: null });
      await expect(store.createOAuthGrant({ ...input, id: 'grant2', instanceAllowlist: [insB.id] })).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      await expect(store.createOAuthGrant({ ...input, id: 'grant3', orgId: 'org_missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.createOAuthGrant({ ...input, id: 'grant5', orgId: b.id, scopes: ['audit:read'], instanceAllowlist: [insB.id] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await store.createOAuthGrant({ ...input, id: 'grant4', orgId: b.id, instanceAllowlist: [insB.id] });
      expect((await store.listOAuthGrants(a.id)).map((x) => x.id)).toEqual(['grant1']);
      expect(await store.listOAuthGrants()).toHaveLength(2);
      expect((await store.getOAuthGrant('grant4'))!.instanceAllowlist).toEqual([insB.id]);
      expect(await store.revokeOAuthGrant('grant1', clock.now + 1)).toBe(true);
      expect(await store.revokeOAuthGrant('grant1', clock.now + 2)).toBe(false);
      expect(await store.revokeOAuthGrant('nope', clock.now)).toBe(false);
      expect((await store.getOAuthGrant('grant1'))!.revokedAt).toBe(clock.now + 1);
    });

    it('keeps admin accounts with unique names and sessions by hash until they expire', async () => {
      const a = await store.createOrg('acme');
      const admin = await store.createAdminAccount({ name: 'alice', passwordHash: 'scrypt$1$1$1$s$k', orgIds: [a.id], scopes: ['runs:read'] });
      expect(admin.id).toMatch(/^adm_/);
      expect(await store.findAdminAccount('alice')).toEqual(admin);
      expect(await store.getAdminAccount(admin.id)).toEqual(admin);
      expect(await store.findAdminAccount('bob')).toBeUndefined();
      await expect(store.createAdminAccount({ name: 'alice', passwordHash: 'x', orgIds: [a.id], scopes: [] })).rejects.toThrow(SluiceError);
      await expect(store.createAdminAccount({ name: 'carol', passwordHash: 'x', orgIds: ['org_missing'], scopes: [] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await store.listAdminAccounts()).toEqual([admin]);
      await store.createAdminSession({ hash: hashSecret('cookie'), adminId: admin.id, expiresAt: clock.now + 1000 });
      expect(await store.findAdminSession(hashSecret('cookie'), clock.now)).toEqual({ hash: hashSecret('cookie'), adminId: admin.id, expiresAt: clock.now + 1000 });
      expect(await store.findAdminSession(hashSecret('cookie'), clock.now + 1000)).toBeUndefined();
      await store.deleteAdminSession(hashSecret('cookie'));
      expect(await store.findAdminSession(hashSecret('cookie'), clock.now)).toBeUndefined();
    });

    it('chains audit rows appended concurrently, lists them per org, and verifies the chain', async () => {
      const a = await store.createOrg('acme');
      const b = await store.createOrg('beta');
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendAudit({ orgId: i % 2 ? a.id : b.id, actor: 'system:test', action: 'test.row', outcome: 'ok', detail: { i } })));
      await store.appendAudit({ orgId: null, actor: 'system:test', action: 'test.global', outcome: 'ok' });
      const rows = await store.listAudit(a.id, { limit: 100 });
      expect(rows).toHaveLength(10);
      expect(rows.every((r) => r.orgId === a.id)).toBe(true);
      expect((await store.listAudit(a.id, { after: rows[4]!.seq, limit: 2 })).map((r) => r.seq)).toEqual([rows[5]!.seq, rows[6]!.seq]);
      expect(await store.verifyAudit()).toEqual({ ok: true, rows: 21, problems: [] });
    });

    it('continues the audit chain across store objects', async () => {
      await store.appendAudit({ orgId: null, actor: 'system:test', action: 'first', outcome: 'ok' });
      await store.flushAudit();
      const other = await s.reopen();
      try {
        await other.appendAudit({ orgId: null, actor: 'system:test', action: 'second', outcome: 'ok' });
        await other.flushAudit();
      } finally {
        await other.close();
      }
      await store.appendAudit({ orgId: null, actor: 'system:test', action: 'third', outcome: 'ok' });
      expect(await store.verifyAudit()).toEqual({ ok: true, rows: 3, problems: [] });
    });

    it('keeps one chain when two store objects append at once', async () => {
      const other = await s.reopen();
      try {
        await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? other : store).appendAudit({ orgId: null, actor: 'system:test', action: 'race', outcome: 'ok', detail: { i } })));
        await Promise.all([store.flushAudit(), other.flushAudit()]);
      } finally {
        await other.close();
      }
      expect(await store.verifyAudit()).toEqual({ ok: true, rows: 30, problems: [] });
    });

    it('refuses to change an audit row, and a row changed behind its back fails verification', async () => {
      for (let i = 0; i < 3; i++) await store.appendAudit({ orgId: null, actor: 'system:test', action: 'row', outcome: 'ok', detail: { i } });
      await store.flushAudit();
      expect(String(await s.updateAuditRow(2))).toMatch(/append-only/);
      await s.tamperAuditRow(2);
      const other = await s.reopen();
      try {
        expect(await other.verifyAudit()).toMatchObject({ ok: false, problems: [{ seq: 2, problem: 'hash_mismatch' }] });
      } finally {
        await other.close();
      }
    });

    it('refuses to open data written by a newer schema, naming the upgrade', async () => {
      await store.createOrg('acme');
      const err = await s.openAsNewerSchema();
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toMatch(/newer than this build understands.*upgrade sluice-relay/);
    });
  });
}
