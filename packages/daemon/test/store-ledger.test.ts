import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError, type EventType } from '@sluice/shared-protocol';
import { APPEND_ONLY_TABLES, checkProjections, DatabaseTooNewError, openDatabase, rebuildProjections, Store, TransitionRefusedError, verifyAuditChain } from '../src/index.js';
import { recordRelease, recordScan } from '../src/secrets/findings.js';
import { tempDir } from './core-fixtures.js';

const ACTOR = 'local:tester';
const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);

let dir: string;
let store: Store;

function openRun(s: Store) {
  return s.openRun({ workspaceId: 'web', title: 'demo', baseRef: 'main', baseCommit: COMMIT_A, branch: 'sluice/run/x', actor: ACTOR });
}

function dispatch(s: Store, runId: string, over: Partial<Parameters<Store['dispatchStep']>[0]> = {}) {
  const input = { runId, executor: 'sim', task: 'do it', validations: ['test'], approvalRequired: true, timeoutMs: 60_000, attemptsRequested: 2, idempotencyKey: 'k1', actor: ACTOR, ...over };
  // The store compares the hash it is given; the verb service computes it from the canonical verb input.
  return s.dispatchStep({ requestHash: JSON.stringify([input.executor, input.task]), ...input });
}

/** A mix of every kind of write, as an engine and operators would make them. */
function mixedHistory(s: Store) {
  const run = openRun(s);
  const { step } = dispatch(s, run.runId);
  const [a1, a2] = step.attempts;
  s.transitionAttempt(a1!.attemptId, 'preparing', {}, 'system:engine');
  s.transitionAttempt(a1!.attemptId, 'running', {}, 'system:engine');
  s.transitionStep(step.stepId, 'running', {}, 'system:engine');
  s.transitionAttempt(a1!.attemptId, 'validating', { commit: COMMIT_B, exitCode: 0, changedFiles: 1 }, 'system:engine');
  s.recordValidation({ attemptId: a1!.attemptId, name: 'test', argv: ['npm', 'test'], passed: true, exitCode: 0, timedOut: false, durationMs: 12, stdoutDigest: null, stderrDigest: null }, 'system:engine');
  const out = s.addArtifactRef({ digest: `sha256:${'c'.repeat(64)}`, size: 3, mediaType: 'text/plain', kind: 'stdout', name: 'stdout.txt', runId: run.runId, stepId: step.stepId, attemptId: a1!.attemptId }, 'system:engine');
  recordScan(s, out, { kind: 'artifact', id: out.artifactId, name: out.name }, ['private-key'], 'system:engine');
  recordRelease(s, out, { kind: 'artifact', id: out.artifactId }, ['private-key'], 'a test key', ACTOR);
  s.transitionAttempt(a1!.attemptId, 'awaiting_approval', {}, 'system:engine');
  s.transitionAttempt(a2!.attemptId, 'failed', { failureCode: 'EXECUTOR_FAILED', exitCode: 2 }, 'system:engine');
  const gate = s.createGate({ runId: run.runId, stepId: step.stepId, attemptId: null, kind: 'approval', rule: 'operator approves', candidates: [a1!.attemptId] }, 'system:engine');
  s.transitionStep(step.stepId, 'awaiting_approval', {}, 'system:engine');
  s.decideGate(gate.gateId, { status: 'approved', acceptedAttemptId: a1!.attemptId, reason: 'looks good' }, ACTOR);
  s.setRunHead(run.runId, COMMIT_B, ACTOR);
  s.transitionAttempt(a1!.attemptId, 'succeeded', {}, ACTOR);
  s.transitionStep(step.stepId, 'succeeded', { acceptedAttemptId: a1!.attemptId }, ACTOR);
  s.transitionRun(run.runId, 'completed', ACTOR);
  s.audit({ actor: ACTOR, action: 'verb.runs.close', target: run.runId, outcome: 'ok' });
  return { run, step, gate };
}

beforeEach(() => {
  dir = tempDir();
  store = new Store(openDatabase(join(dir, 'state.db')));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ledger writes', () => {
  it('records a run, step and attempts shaped as the protocol models, each row naming its actor', () => {
    const { run, step } = mixedHistory(store);
    const detail = store.getRunDetail(run.runId)!;
    expect(detail.state).toBe('completed');
    expect(detail.headCommit).toBe(COMMIT_B);
    expect(detail.steps[0]!.acceptedAttemptId).toBe(step.attempts[0]!.attemptId);
    const stepDetail = store.getStepDetail(step.stepId)!;
    expect(stepDetail.gates[0]).toMatchObject({ status: 'approved', decidedBy: ACTOR, reason: 'looks good' });
    expect(stepDetail.validationResults[0]).toMatchObject({ name: 'test', passed: true });
    for (const table of ['runs', 'steps', 'attempts']) {
      expect(store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE created_by IS NULL OR updated_by IS NULL`).get()).toEqual({ n: 0 });
    }
    for (const table of ['transitions', 'events', 'artifact_refs', 'validation_results', 'gates', 'gate_evaluations', 'audit']) {
      const { n } = store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE actor NOT LIKE '%:%'`).get() as { n: number };
      expect(n, table).toBe(0);
    }
    const types = store.listEvents({ runId: run.runId, limit: 500 }).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.opened', 'step.queued', 'attempt.state_changed', 'gate.created', 'gate.decided', 'validation.recorded', 'artifact.recorded', 'run.head_moved', 'run.closed']));
    const cursors = store.listEvents({ limit: 500 }).map((e) => e.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  });

  it('returns the same step for the same idempotency key and refuses a different request under it', () => {
    const run = openRun(store);
    const first = dispatch(store, run.runId);
    const again = dispatch(store, run.runId);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.step.stepId).toBe(first.step.stepId);
    expect(store.getRunDetail(run.runId)!.steps).toHaveLength(1);
    expect(() => dispatch(store, run.runId, { task: 'something else' })).toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_CONFLICT' }));
  });

  it('refuses attempt moves the state machine does not allow, writing nothing', () => {
    const run = openRun(store);
    const { step } = dispatch(store, run.runId, { attemptsRequested: 1 });
    const id = step.attempts[0]!.attemptId;
    store.transitionAttempt(id, 'cancelled', {}, ACTOR);
    const before = store.lastCursor();
    expect(() => store.transitionAttempt(id, 'running', {}, ACTOR)).toThrow(TransitionRefusedError);
    expect(store.lastCursor()).toBe(before);
    expect(store.getAttempt(id)!.state).toBe('cancelled');
    expect(store.getAttempt(id)!.endedAt).not.toBeNull();
  });

  it('creates retry attempts and puts a failed step back in the queue', () => {
    const run = openRun(store);
    const { step } = dispatch(store, run.runId, { attemptsRequested: 1 });
    store.transitionAttempt(step.attempts[0]!.attemptId, 'failed', { failureCode: 'EXECUTOR_FAILED' }, ACTOR);
    store.transitionStep(step.stepId, 'failed', {}, ACTOR);
    const [retry] = store.createAttempts(step.stepId, 1, ACTOR);
    expect(retry!.number).toBe(2);
    const after = store.getStep(step.stepId)!;
    expect(after.state).toBe('queued');
    expect(after.attempts.map((a) => a.attemptId)).toEqual([retry!.attemptId]);
    expect(store.nextQueuedAttempts().map((a) => a.attemptId)).toEqual([retry!.attemptId]);
  });

  it('refuses a second decision on a gate', () => {
    const { gate } = mixedHistory(store);
    expect(() => store.decideGate(gate.gateId, { status: 'rejected', reason: 'no' }, ACTOR)).toThrow(SluiceError);
    expect(store.getGate(gate.gateId)!.status).toBe('approved');
  });
});

describe('append-only ledger tables', () => {
  it.each(APPEND_ONLY_TABLES)('%s rejects UPDATE and DELETE', (table) => {
    mixedHistory(store);
    expect((store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n).toBeGreaterThan(0);
    expect(() => store.db.prepare(`UPDATE ${table} SET actor = 'local:mallory'`).run()).toThrow(/append-only/);
    expect(() => store.db.prepare(`DELETE FROM ${table}`).run()).toThrow(/append-only/);
  });
});

describe('audit verify', () => {
  function tamper(sql: string) {
    const path = join(dir, 'state.db');
    store.close();
    // What someone with plain sqlite3 can do: drop the guard triggers, then edit.
    const raw = new Database(path);
    raw.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
    raw.exec(sql);
    raw.close();
    store = new Store(openDatabase(path));
  }

  beforeEach(() => {
    for (let i = 0; i < 5; i++) store.audit({ actor: ACTOR, action: 'test.action', target: `t${i}`, outcome: 'ok', details: { i } });
  });

  it('accepts an untouched chain', () => {
    expect(verifyAuditChain(store.db)).toEqual({ ok: true, rows: 5, problems: [] });
  });

  it('names the first edited row', () => {
    tamper("UPDATE audit SET actor = 'local:someone-else' WHERE seq = 3");
    const r = verifyAuditChain(store.db);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ seq: 3, problem: 'hash_mismatch', reason: expect.stringMatching(/edited/) as string }]);
  });

  it('finds a deleted row in the middle', () => {
    tamper('DELETE FROM audit WHERE seq = 2');
    expect(verifyAuditChain(store.db).problems[0]).toMatchObject({ seq: 3, problem: 'sequence_gap' });
  });

  it('finds a deleted last row', () => {
    tamper('DELETE FROM audit WHERE seq = 5');
    expect(verifyAuditChain(store.db)).toMatchObject({ ok: false, problems: [{ seq: 5, problem: 'tail_missing' }] });
  });

  it('finds an inserted row even with a plausible prev_hash', () => {
    tamper("INSERT INTO audit (seq, at, actor, action, target, outcome, details, prev_hash, hash) SELECT 6, at, actor, 'forged', NULL, 'ok', '{}', hash, hash FROM audit WHERE seq = 5");
    expect(verifyAuditChain(store.db)).toMatchObject({ ok: false, problems: [{ seq: 6, problem: 'hash_mismatch' }] });
  });
});

describe('db rebuild', () => {
  it('agrees with the projections after a mix of operations', () => {
    mixedHistory(store);
    const run2 = openRun(store);
    dispatch(store, run2.runId, { idempotencyKey: null });
    expect(checkProjections(store.db)).toEqual([]);
  });

  it('reports a projection edited behind the ledger, and repairs it', () => {
    const { run } = mixedHistory(store);
    store.db.prepare("UPDATE runs SET state = 'open', title = 'edited' WHERE run_id = ?").run(run.runId);
    expect(checkProjections(store.db)).toEqual([{ table: 'runs', id: run.runId, problem: 'differs', columns: ['title', 'state'] }]);
    rebuildProjections(store.db);
    expect(checkProjections(store.db)).toEqual([]);
    expect(store.getRun(run.runId)!.state).toBe('completed');
  });
});

describe('migrations', () => {
  it('refuses a database written by newer code', () => {
    const path = join(dir, 'state.db');
    store.close();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openDatabase(path)).toThrow(DatabaseTooNewError);
    store = new Store(new Database(':memory:'));
  });
});

describe('group commit', () => {
  it('writes events queued in one turn in one transaction, in order, and wakes the bus once', async () => {
    const run = openRun(store);
    const notices: number[] = [];
    const unsubscribe = store.bus.subscribe((n) => notices.push(n.cursor));
    const pending = Array.from({ length: 250 }, (_, i) => store.queueEvent({ type: 'attempt.log', runId: run.runId, data: { lines: [{ stream: 'stdout', text: String(i) }] } }, 'system:engine'));
    const events = await Promise.all(pending);
    unsubscribe();
    expect(events.map((e) => (e.data['lines'] as { text: string }[])[0]!.text)).toEqual(Array.from({ length: 250 }, (_, i) => String(i)));
    expect(new Set(events.map((e) => e.at)).size).toBe(1);
    expect(notices).toEqual([events.at(-1)!.cursor]);
    expect(store.listEvents({ runId: run.runId, after: events[0]!.cursor - 1, limit: 500 })).toHaveLength(250);
  });

  it('rejects a queued event with a malformed type without losing the rest of the turn', async () => {
    const run = openRun(store);
    const before = store.queueEvent({ type: 'attempt.log', runId: run.runId, data: { lines: [] } }, 'system:engine');
    const bad = store.queueEvent({ type: 'Not A Type' as EventType, runId: run.runId }, 'system:engine');
    const after = store.queueEvent({ type: 'attempt.log', runId: run.runId, data: { lines: [] } }, 'system:engine');
    await expect(bad).rejects.toThrow(/dotted lowercase/);
    expect((await after).cursor).toBe((await before).cursor + 1);
  });
});
