import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '@sluice/shared-protocol';
import { git } from '@sluice/test-kit';
import { awaitingApprovalGate, ledgerCounts, startTestDaemon, type TestDaemon } from './core-fixtures.js';

let d: TestDaemon;
afterEach(async () => {
  await d?.close();
});

async function openRun(body: Record<string, unknown> = {}) {
  const res = await d.verb('runs.open', { workspaceId: 'web', title: 'demo', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { runId: string; branch: string; headCommit: string; baseRef: string; baseCommit: string };
}

describe('a run base must be accepted history', () => {
  it('refuses a rejected attempt as baseRef, by branch name and by raw commit', async () => {
    d = await startTestDaemon();
    const { gate, attempts, commits } = await awaitingApprovalGate(d, await openRun(), 1);
    expect((await d.verb('gates.reject', { gateId: gate.gateId, reason: 'unsafe' })).body.status).toBe('rejected');
    const before = ledgerCounts(d.store);
    for (const baseRef of [`sluice/attempt/${attempts[0]}`, `refs/heads/sluice/attempt/${attempts[0]}`, `heads/sluice/attempt/${attempts[0]}`, commits[0]!]) {
      const res = await d.verb('runs.open', { workspaceId: 'web', baseRef });
      expect(res, baseRef).toMatchObject({ status: 422, body: { code: 'BASE_REF_NOT_ALLOWED' } });
      expect(res.body.message).toMatch(/operator/);
    }
    expect(ledgerCounts(d.store)).toEqual(before);
    expect(git(d.repo.path, 'for-each-ref', '--format=%(refname)', 'refs/heads/sluice/run/').split('\n')).toHaveLength(1);
  });

  it('refuses an undecided attempt commit; accepts operator branches, tags and an accepted run head', async () => {
    d = await startTestDaemon();
    const first = await openRun();
    const { gate, attempts, commits } = await awaitingApprovalGate(d, first, 2);
    expect(await d.verb('runs.open', { workspaceId: 'web', baseRef: commits[0] })).toMatchObject({ status: 422, body: { code: 'BASE_REF_NOT_ALLOWED' } });
    await d.verb('gates.approve', { gateId: gate.gateId, attemptId: attempts[1] });
    expect(await d.verb('runs.open', { workspaceId: 'web', baseRef: commits[0] })).toMatchObject({ status: 422, body: { code: 'BASE_REF_NOT_ALLOWED' } });
    expect((await openRun({ baseRef: first.branch })).baseCommit).toBe(commits[1]);
    expect((await openRun({ baseRef: commits[1] })).baseCommit).toBe(commits[1]);
    git(d.repo.path, 'tag', 'v1', d.repo.head);
    expect((await openRun({ baseRef: 'v1' })).baseCommit).toBe(d.repo.head);
    expect((await openRun({ baseRef: 'main' })).baseCommit).toBe(d.repo.head);
  });

  it('a run branch moved off its accepted head is not a base', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const tree = git(d.repo.path, 'rev-parse', `${run.headCommit}^{tree}`);
    const stray = git(d.repo.path, 'commit-tree', tree, '-p', run.headCommit, '-m', 'not accepted');
    git(d.repo.path, 'update-ref', `refs/heads/${run.branch}`, stray);
    expect(await d.verb('runs.open', { workspaceId: 'web', baseRef: run.branch })).toMatchObject({ status: 422, body: { code: 'BASE_REF_NOT_ALLOWED' } });
  });

  it('every gate shows the base ref and base commit of its run', async () => {
    d = await startTestDaemon();
    const run = await openRun({ baseRef: 'main' });
    const { gate } = await awaitingApprovalGate(d, run, 1);
    expect(gate).toMatchObject({ baseRef: 'main', baseCommit: d.repo.head });
    const listed = (await d.verb('gates.list', { runId: run.runId })).body.gates;
    expect(listed[0]).toMatchObject({ baseRef: 'main', baseCommit: d.repo.head });
    const created = (await d.verb('events.list', { runId: run.runId })).body.events.find((e: { type: string }) => e.type === 'gate.created');
    expect(created.data).toMatchObject({ baseRef: 'main', baseCommit: d.repo.head });
  });
});

describe('gates and the end of a run', () => {
  it('runs.close is refused while a gate is pending', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const { gate, attempts } = await awaitingApprovalGate(d, run, 1);
    expect(await d.verb('runs.close', { runId: run.runId })).toMatchObject({ status: 409, body: { code: 'RUN_HAS_PENDING_GATES' } });
    await d.verb('gates.approve', { gateId: gate.gateId, attemptId: attempts[0] });
    expect((await d.verb('runs.close', { runId: run.runId })).body.state).toBe('completed');
  });

  it('a decision on a gate of a run that is no longer open is refused and moves nothing', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const { gate, attempts } = await awaitingApprovalGate(d, run, 1);
    // A gate left pending on a completed run (a ledger from before the close rule) must not move the branch.
    d.store.transitionRun(run.runId, 'completed', 'local:test');
    expect(await d.verb('gates.approve', { gateId: gate.gateId, attemptId: attempts[0] })).toMatchObject({ status: 409, body: { code: 'RUN_NOT_OPEN' } });
    expect(await d.verb('gates.reject', { gateId: gate.gateId, reason: 'late' })).toMatchObject({ status: 409, body: { code: 'RUN_NOT_OPEN' } });
    expect(git(d.repo.path, 'rev-parse', `refs/heads/${run.branch}`)).toBe(run.headCommit);
    const aborted = await openRun();
    const second = await awaitingApprovalGate(d, aborted, 1);
    await d.verb('runs.abort', { runId: aborted.runId });
    expect((await d.verb('gates.approve', { gateId: second.gate.gateId, attemptId: second.attempts[0] })).status).toBe(409);
    expect(git(d.repo.path, 'rev-parse', `refs/heads/${aborted.branch}`)).toBe(aborted.headCommit);
  });
});

describe('events.list pages', () => {
  it('a page of big attempt.log events stays under the byte bound and the next page picks up where it stopped', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const line = '"\\'.repeat(250);
    d.store.appendEvents(Array.from({ length: 500 }, (_, n) => ({ type: 'attempt.log', runId: run.runId, data: { stream: 'stdout', line, n } })), 'system:engine');
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const res = await d.verb('events.list', { runId: run.runId, after, limit: 500 });
      expect(res.status).toBe(200);
      expect(Buffer.byteLength(JSON.stringify(res.body.events))).toBeLessThanOrEqual(LIMITS.eventsPageBytes);
      if (res.body.events.length === 0) break;
      expect(res.body.events.length).toBeLessThan(500);
      seen.push(...res.body.events.filter((e: { type: string }) => e.type === 'attempt.log').map((e: { data: { n: number } }) => e.data.n));
      after = res.body.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 500 }, (_, n) => n));
  });

  it('cursors count the run, not the daemon: another run\'s activity does not show in them', async () => {
    d = await startTestDaemon();
    const mine = await openRun();
    const other = await openRun();
    const first = (await d.verb('events.list', { runId: mine.runId })).body;
    expect(first.events.map((e: { cursor: number }) => e.cursor)).toEqual([1]);
    d.store.appendEvents(Array.from({ length: 7 }, () => ({ type: 'attempt.log', runId: other.runId, data: { line: 'busy' } })), 'system:engine');
    d.store.appendEvent({ type: 'attempt.log', runId: mine.runId, data: { line: 'mine' } }, 'system:engine');
    const next = (await d.verb('events.list', { runId: mine.runId, after: first.nextCursor })).body;
    expect(next).toMatchObject({ events: [{ cursor: 2, data: { line: 'mine' } }], nextCursor: 2 });
    expect((await d.verb('events.list', { runId: mine.runId, after: 2 })).body).toEqual({ events: [], nextCursor: 2 });
  });

  it('a cursor the run never gave out is CURSOR_INVALID, not an empty page', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const res = await d.verb('events.list', { runId: run.runId, after: 2 });
    expect(res).toMatchObject({ status: 400, body: { code: 'CURSOR_INVALID' } });
    expect(res.body.message).toMatch(/position/);
  });
});

describe('remote reads of artifacts are audited', () => {
  it('an artifacts.get through the connector leaves a row with the actor and the digest; a local read does not', async () => {
    d = await startTestDaemon();
    const run = await openRun();
    const blob = await d.artifacts.putBuffer('agent output\n');
    d.store.addArtifactRef({ ...blob, mediaType: 'text/plain', kind: 'stdout', name: 'stdout.txt', runId: run.runId, stepId: null, attemptId: null }, 'system:engine');
    const remote = { 'x-sluice-shared-workspaces': 'web', 'x-sluice-actor': 'planner:org_1/tok_1' };
    expect((await d.verb('artifacts.get', { runId: run.runId, digest: blob.digest }, remote)).body.content).toBe('agent output\n');
    await d.verb('artifacts.get', { runId: run.runId, digest: `sha256:${'1'.repeat(64)}` }, remote);
    await d.verb('artifacts.get', { runId: run.runId, digest: blob.digest });
    const rows = d.store.db.prepare("SELECT actor, target, outcome, details FROM audit WHERE action = 'verb.artifacts.get' ORDER BY seq").all() as { details: string }[];
    expect(rows.map((r) => ({ ...r, details: JSON.parse(r.details) }))).toEqual([
      { actor: 'planner:org_1/tok_1', target: run.runId, outcome: 'ok', details: { remote: true, digest: blob.digest } },
      { actor: 'planner:org_1/tok_1', target: run.runId, outcome: 'ARTIFACT_NOT_FOUND', details: { remote: true, digest: `sha256:${'1'.repeat(64)}` } },
    ]);
  });
});
