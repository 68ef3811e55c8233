import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VERB_NAMES, daemonVerbPath } from '@sluice/shared-protocol';
import { git, makeRepo } from '@sluice/test-kit';
import { awaitingApprovalGate, ledgerCounts, startTestDaemon, type TestDaemon } from './core-fixtures.js';

let d: TestDaemon;
afterEach(async () => {
  await d?.close();
});

const REMOTE = { 'x-sluice-shared-workspaces': 'web', 'x-sluice-actor': 'planner:org_1/tok_1' };
const FAKE = {
  run: 'run_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  step: 'stp_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  attempt: 'att_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  gate: 'gat_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  digest: `sha256:${'0'.repeat(64)}`,
};

async function openRun(headers: Record<string, string> = {}) {
  const res = await d.verb('runs.open', { workspaceId: 'web', title: 'demo' }, headers);
  expect(res.status).toBe(200);
  return res.body as { runId: string; branch: string; headCommit: string };
}

describe('runs', () => {
  it('runs.open creates the run branch at the base commit without touching the checkout', async () => {
    d = await startTestDaemon();
    writeFileSync(join(d.repo.path, 'dirty.txt'), 'operator work in progress\n');
    const run = await openRun({ 'x-sluice-actor': 'planner:org_1/tok_1' });
    expect(run.branch).toBe(`sluice/run/${run.runId}`);
    expect(git(d.repo.path, 'rev-parse', `refs/heads/${run.branch}`)).toBe(d.repo.head);
    expect(git(d.repo.path, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(git(d.repo.path, 'status', '--porcelain')).toBe('?? dirty.txt');
    const got = await d.verb('runs.get', { runId: run.runId });
    expect(got.body).toMatchObject({ runId: run.runId, state: 'open', createdBy: 'planner:org_1/tok_1', steps: [] });
    const missing = await d.verb('runs.open', { workspaceId: 'web', baseRef: 'no-such-branch' });
    expect(missing).toMatchObject({ status: 422, body: { code: 'BASE_REF_NOT_FOUND' } });
  });

  it('lists runs newest first with a page cursor', async () => {
    d = await startTestDaemon();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await openRun()).runId);
    const first = await d.verb('runs.list', { limit: 2 });
    expect(first.body.runs).toHaveLength(2);
    const second = await d.verb('runs.list', { limit: 2, cursor: first.body.nextCursor });
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.runs, ...second.body.runs].map((r: { runId: string }) => r.runId).sort()).toEqual(ids.sort());
  });

  it('runs.close waits for live steps; runs.abort cancels them and refuses new steps', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const step = (await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x', attempts: 2 })).body;
    expect(await d.verb('runs.close', { runId: run.runId })).toMatchObject({ status: 409, body: { code: 'RUN_HAS_LIVE_STEPS' } });
    const aborted = await d.verb('runs.abort', { runId: run.runId, reason: 'changed my mind' });
    expect(aborted.body.state).toBe('aborted');
    const after = (await d.verb('steps.get', { stepId: step.stepId })).body;
    expect(after.state).toBe('cancelled');
    expect(after.attempts.map((a: { state: string }) => a.state)).toEqual(['cancelled', 'cancelled']);
    expect(await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'y' })).toMatchObject({ status: 409, body: { code: 'RUN_NOT_OPEN' } });
  });
});

describe('steps', () => {
  it('dispatch records a queued step; the same idempotency key returns the same step', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const input = { runId: run.runId, executor: 'sim', task: 'add a README', validations: ['test'], attempts: 2, idempotencyKey: 'plan-1.step-1' };
    const a = await d.verb('steps.dispatch', input);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ state: 'queued', seq: 1, attemptsRequested: 2, validations: ['test'], idempotencyKey: 'plan-1.step-1' });
    expect(a.body.attempts.map((x: { state: string }) => x.state)).toEqual(['queued', 'queued']);
    const b = await d.verb('steps.dispatch', input);
    expect(b.body.stepId).toBe(a.body.stepId);
    const conflict = await d.verb('steps.dispatch', { ...input, task: 'something else' });
    expect(conflict).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect((await d.verb('runs.get', { runId: run.runId })).body.steps).toHaveLength(1);
  });

  it('judges "the same dispatch" by the canonical verb input, as the relay does', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const first = await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x', idempotencyKey: 'canon' });
    expect(first.status).toBe(200);
    // The protocol defaults spelled out, keys in another order: the same request.
    const spelled = { idempotencyKey: 'canon', attempts: 1, approval: false, validations: [], task: 'x', executor: 'sim', runId: run.runId };
    expect((await d.verb('steps.dispatch', spelled)).body.stepId).toBe(first.body.stepId);
    // A value the relay cannot know to be a default (the executor's timeout) is a different request at both.
    const timeoutMs = first.body.timeoutMs as number;
    expect(await d.verb('steps.dispatch', { ...spelled, timeoutMs })).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
  });

  it('refuses executors and validations the workspace does not define', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    expect(await d.verb('steps.dispatch', { runId: run.runId, executor: 'claude', task: 'x' })).toMatchObject({ status: 422, body: { code: 'EXECUTOR_NOT_ALLOWED' } });
    expect(await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x', validations: ['lint'] })).toMatchObject({ status: 422, body: { code: 'VALIDATION_NOT_DEFINED' } });
  });

  it('attempts.cancel cancels a queued attempt once and says so the second time; steps.wait sees the step settle', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const step = (await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x' })).body;
    const attemptId = step.attempts[0].attemptId;
    const waiting = d.verb('steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 100));
    const first = await d.verb('attempts.cancel', { attemptId, reason: 'not needed' });
    expect(first.body).toMatchObject({ alreadyFinished: false, attempt: { state: 'cancelled' } });
    const second = await d.verb('attempts.cancel', { attemptId });
    expect(second.body).toMatchObject({ alreadyFinished: true, attempt: { state: 'cancelled' } });
    expect((await waiting).body).toMatchObject({ settled: true, state: 'cancelled' });
    const retried = await d.verb('steps.retry', { stepId: step.stepId });
    expect(retried.body.state).toBe('queued');
    expect(retried.body.attempts[0].number).toBe(2);
    expect(await d.verb('steps.retry', { stepId: step.stepId })).toMatchObject({ status: 409, body: { code: 'STEP_NOT_RETRYABLE' } });
  });
});

describe('gates', () => {
  async function awaitingApproval(workspace?: Parameters<typeof startTestDaemon>[0]) {
    d = await startTestDaemon(workspace);
    return awaitingApprovalGate(d, await openRun(), 2);
  }

  it('approving names the attempt, fast-forwards the run branch and settles the step', async () => {
    const { run, step, gate, commits, attempts } = await awaitingApproval();
    expect(await d.verb('gates.approve', { gateId: gate.gateId })).toMatchObject({ status: 400, body: { code: 'ATTEMPT_CHOICE_REQUIRED' } });
    const ok = await d.verb('gates.approve', { gateId: gate.gateId, attemptId: attempts[1], reason: 'second is cleaner' });
    expect(ok.body).toMatchObject({ status: 'approved', acceptedAttemptId: attempts[1], decidedBy: expect.stringMatching(/^local:/) });
    expect(git(d.repo.path, 'rev-parse', `refs/heads/${run.branch}`)).toBe(commits[1]);
    const s = (await d.verb('steps.get', { stepId: step.stepId })).body;
    expect(s).toMatchObject({ state: 'succeeded', acceptedAttemptId: attempts[1] });
    expect(s.attempts.map((a: { state: string }) => a.state)).toEqual(['cancelled', 'succeeded']);
    expect((await d.verb('runs.get', { runId: run.runId })).body.headCommit).toBe(commits[1]);
    expect((await d.verb('gates.approve', { gateId: gate.gateId, attemptId: attempts[1] })).status).toBe(200);
    expect(await d.verb('gates.reject', { gateId: gate.gateId, reason: 'too late' })).toMatchObject({ status: 409, body: { code: 'GATE_ALREADY_DECIDED' } });
    expect((await d.verb('gates.list', { runId: run.runId, status: 'pending' })).body.gates).toEqual([]);
  });

  it('refuses to overwrite a run branch that moved underneath', async () => {
    const { run, gate, attempts } = await awaitingApproval();
    const tree = git(d.repo.path, 'rev-parse', `${run.headCommit}^{tree}`);
    const elsewhere = git(d.repo.path, 'commit-tree', tree, '-p', run.headCommit, '-m', 'operator commit');
    git(d.repo.path, 'update-ref', `refs/heads/${run.branch}`, elsewhere);
    expect(await d.verb('gates.approve', { gateId: gate.gateId, attemptId: attempts[0] })).toMatchObject({ status: 409, body: { code: 'RUN_BRANCH_MOVED' } });
    expect(git(d.repo.path, 'rev-parse', `refs/heads/${run.branch}`)).toBe(elsewhere);
    expect((await d.verb('gates.list', { runId: run.runId, status: 'pending' })).body.gates).toHaveLength(1);
  });

  it('remote decisions need approval.remote; rejection fails the step', async () => {
    const { gate, step } = await awaitingApproval();
    expect(await d.verb('gates.reject', { gateId: gate.gateId, reason: 'no' }, REMOTE)).toMatchObject({ status: 403, body: { code: 'REMOTE_APPROVAL_DISABLED' } });
    await d.close();
    const second = await awaitingApproval({ workspace: { approval: { policy: 'none', remote: true } } });
    const rejected = await d.verb('gates.reject', { gateId: second.gate.gateId, reason: 'not what I asked' }, REMOTE);
    expect(rejected.body).toMatchObject({ status: 'rejected', decidedBy: 'planner:org_1/tok_1', reason: 'not what I asked' });
    expect((await d.verb('steps.get', { stepId: second.step.stepId })).body.state).toBe('failed');
    expect(step.stepId).not.toBe(second.step.stepId);
  });
});

describe('remote callers see only shared workspaces', () => {
  it('answers for an unshared workspace exactly as for a missing id', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const other = { 'x-sluice-shared-workspaces': 'api,docs' };
    const hidden = await d.verb('runs.get', { runId: run.runId }, other);
    const missing = await d.verb('runs.get', { runId: FAKE.run }, other);
    expect(hidden).toEqual(missing);
    expect(hidden).toMatchObject({ status: 404, body: { code: 'RUN_NOT_FOUND' } });
    expect(await d.verb('runs.open', { workspaceId: 'web' }, other)).toMatchObject({ status: 404, body: { code: 'WORKSPACE_NOT_FOUND' } });
    expect((await d.verb('runs.list', {}, other)).body.runs).toEqual([]);
    expect((await d.verb('runs.list', {}, REMOTE)).body.runs).toHaveLength(1);
    expect((await d.request('GET', '/api/v1/workspaces', { headers: other })).body).toEqual({ workspaces: [] });
    const shared = (await d.request('GET', '/api/v1/workspaces', { headers: REMOTE })).body;
    expect(shared).toEqual({ workspaces: [{ workspaceId: 'web', name: 'web', executors: ['sim'], validations: ['test'], approvalPolicy: 'none', remoteApprovals: false }] });
    expect(JSON.stringify(shared)).not.toContain(d.repo.path);
  });
});

describe('operator workspace add', () => {
  it('adds no executor unless the request names some; refuses the command adapter', async () => {
    d = await startTestDaemon();
    const root = join(d.repo.path, '..');
    const bare = makeRepo(join(root, 'bare')).path;
    const named = makeRepo(join(root, 'named')).path;
    expect(await d.request('POST', '/api/v1/workspaces', { body: JSON.stringify({ path: bare, id: 'bare' }), headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 201 });
    const cmd = JSON.stringify({ path: named, id: 'named', executors: { x: 'command' } });
    expect(await d.request('POST', '/api/v1/workspaces', { body: cmd, headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    const ok = JSON.stringify({ path: named, id: 'named', executors: { sim: 'simulation' } });
    expect(await d.request('POST', '/api/v1/workspaces', { body: ok, headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 201 });
    const list = (await d.request('GET', '/api/v1/workspaces')).body.workspaces as Array<{ workspaceId: string; executors: string[] }>;
    expect(Object.fromEntries(list.map((w) => [w.workspaceId, w.executors]))).toEqual({ web: ['sim'], bare: [], named: ['sim'] });
  });
});

describe('events', () => {
  it('events.list long-polls until an event of the run arrives', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const { nextCursor } = (await d.verb('events.list', { runId: run.runId })).body;
    const pending = d.verb('events.list', { runId: run.runId, after: nextCursor, waitMs: 20_000 });
    setTimeout(() => d.store.appendEvent({ type: 'attempt.log', runId: run.runId, data: { lines: [{ stream: 'stdout', text: 'hello' }] } }, 'system:engine'), 200);
    const res = await pending;
    expect(res.body.events).toHaveLength(1);
    expect(res.body.events[0]).toMatchObject({ type: 'attempt.log', data: { lines: [{ stream: 'stdout', text: 'hello' }] } });
    expect(res.body.nextCursor).toBe(res.body.events[0].cursor);
  });

  it('the SSE stream resumes after Last-Event-ID and then follows live', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    for (let i = 0; i < 3; i++) d.store.appendEvent({ type: 'attempt.log', runId: run.runId, data: { i } }, 'system:engine');
    const all = d.store.listEvents({ limit: 100 });
    const resumeAfter = all[1]!.cursor;
    const controller = new AbortController();
    const res = await fetch(`${d.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${d.token}`, 'last-event-id': String(resumeAfter) }, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const ids = () => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    while (ids().length < all.length - 2) text += new TextDecoder().decode((await reader.read()).value);
    expect(ids()).toEqual(all.slice(2).map((e) => e.cursor));
    const live = d.store.appendEvent({ type: 'attempt.log', runId: run.runId, data: { live: true } }, 'system:engine');
    while (!ids().includes(live.cursor)) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"live":true');
    controller.abort();
  });
});

describe('artifacts', () => {
  it('serves only digests recorded for the run, by offset, and never a corrupt blob', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const other = await openRun();
    const blob = await d.artifacts.putBuffer('line one\nline two\n');
    d.store.addArtifactRef({ ...blob, mediaType: 'text/plain', kind: 'log', name: 'log.txt', runId: run.runId, stepId: null, attemptId: null }, 'system:engine');
    expect((await d.verb('artifacts.list', { runId: run.runId })).body.artifacts).toHaveLength(1);
    const part = await d.verb('artifacts.get', { runId: run.runId, digest: blob.digest, offset: 5, length: 3 });
    expect(part.body).toMatchObject({ digest: blob.digest, size: blob.size, encoding: 'utf8', content: 'one', eof: false, offset: 5, length: 3 });
    expect(await d.verb('artifacts.get', { runId: other.runId, digest: blob.digest })).toMatchObject({ status: 404, body: { code: 'ARTIFACT_NOT_FOUND' } });
    writeFileSync(d.artifacts.pathOf(blob.digest), 'line one\nline 2wo\n');
    const corrupt = await d.verb('artifacts.get', { runId: run.runId, digest: blob.digest });
    expect(corrupt.status).toBe(507);
    expect(corrupt.text).not.toContain('line');
  });
});

describe('bad input on every route writes nothing', () => {
  it.each(VERB_NAMES.filter((v) => v !== 'instances.list'))('%s: malformed JSON, unknown fields, oversized body, wrong content type', async (verb) => {
    d = await startTestDaemon();
    await openRun();
    const before = ledgerCounts(d.store);
    const path = daemonVerbPath(verb);
    const json = { 'content-type': 'application/json' };
    expect(await d.request('POST', path, { body: '{"runId": ', headers: json })).toMatchObject({ status: 400, body: { code: 'MALFORMED_JSON' } });
    const unknown = await d.request('POST', path, { body: JSON.stringify({ surprise: 1 }), headers: json });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    expect(unknown.body.details.length).toBeGreaterThan(0);
    expect(await d.request('POST', path, { body: JSON.stringify({ task: 'x'.repeat(300 * 1024) }), headers: json })).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(await d.request('POST', path, { body: 'runId=1', headers: { 'content-type': 'text/plain' } })).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(ledgerCounts(d.store)).toEqual(before);
  });

  it('unknown ids answer with their not-found codes', async () => {
    d = await startTestDaemon();
    const before = ledgerCounts(d.store);
    const cases: [string, unknown, string][] = [
      ['runs.get', { runId: FAKE.run }, 'RUN_NOT_FOUND'],
      ['runs.close', { runId: FAKE.run }, 'RUN_NOT_FOUND'],
      ['runs.abort', { runId: FAKE.run }, 'RUN_NOT_FOUND'],
      ['steps.dispatch', { runId: FAKE.run, executor: 'sim', task: 'x' }, 'RUN_NOT_FOUND'],
      ['steps.get', { stepId: FAKE.step }, 'STEP_NOT_FOUND'],
      ['steps.retry', { stepId: FAKE.step }, 'STEP_NOT_FOUND'],
      ['steps.wait', { stepId: FAKE.step, timeoutMs: 0 }, 'STEP_NOT_FOUND'],
      ['attempts.get', { attemptId: FAKE.attempt }, 'ATTEMPT_NOT_FOUND'],
      ['attempts.cancel', { attemptId: FAKE.attempt }, 'ATTEMPT_NOT_FOUND'],
      ['gates.list', { runId: FAKE.run }, 'RUN_NOT_FOUND'],
      ['gates.approve', { gateId: FAKE.gate }, 'GATE_NOT_FOUND'],
      ['gates.reject', { gateId: FAKE.gate, reason: 'no' }, 'GATE_NOT_FOUND'],
      ['artifacts.list', { runId: FAKE.run }, 'RUN_NOT_FOUND'],
      ['artifacts.get', { runId: FAKE.run, digest: FAKE.digest }, 'RUN_NOT_FOUND'],
      ['events.list', { runId: FAKE.run }, 'RUN_NOT_FOUND'],
      ['runs.open', { workspaceId: 'nope' }, 'WORKSPACE_NOT_FOUND'],
    ];
    for (const [verb, body, code] of cases) {
      const res = await d.verb(verb, body);
      expect(res.status, verb).toBe(404);
      expect(res.body.code, verb).toBe(code);
    }
    expect(ledgerCounts(d.store)).toEqual(before);
  });

  it('path-like names and unknown verbs are refused', async () => {
    d = await startTestDaemon();
    const before = ledgerCounts(d.store);
    expect(await d.verb('runs.open', { workspaceId: '../x' })).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    expect(await d.verb('runs.open', { workspaceId: 'web', baseRef: '--upload-pack=evil' })).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    expect(await d.verb('runs.open', { workspaceId: 'web', baseRef: '../../etc' })).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    expect(await d.verb('instances.list', {})).toMatchObject({ status: 404, body: { code: 'UNKNOWN_VERB' } });
    expect(await d.verb('runs.delete', {})).toMatchObject({ status: 404, body: { code: 'UNKNOWN_VERB' } });
    expect(await d.verb('__proto__', {})).toMatchObject({ status: 404, body: { code: 'UNKNOWN_VERB' } });
    expect(await d.request('POST', '/api/v1/workspaces', { body: JSON.stringify({ path: `${d.repo.path}/../repo` }), headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400 });
    expect(await d.request('DELETE', '/api/v1/workspaces/..%2Fx')).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    expect(ledgerCounts(d.store)).toEqual(before);
  });
});
