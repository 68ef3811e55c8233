import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeId, PLANNER_SCOPES, workspace } from '@sluice/test-kit';
import type { FakeConnector } from '@sluice/test-kit';
import { callVerb, connectedConnector, fakeRun, fakeStep, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

describe('which instance owns an id', () => {
  let t: TestRelay;
  let a: Awaited<ReturnType<typeof orgWithToken>>;
  let c: FakeConnector;

  beforeEach(async () => {
    t = await startRelay({ requestTimeoutMs: 500 });
    a = await orgWithToken(t.store, 'org-a', PLANNER_SCOPES);
    c = await connectedConnector(t, a.org.id, [workspace('ws1')]);
    c.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
  });
  afterEach(async () => {
    c.close();
    await t.close();
  });

  it('is recorded from the fields the verb declares, never from a free-text field that holds an id', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const otherRun = fakeId('run');
    const otherAttempt = fakeId('att');
    const stepId = fakeId('stp');
    const attemptId = fakeId('att');
    c.handlers['steps.dispatch'] = (input) => {
      const step = fakeStep(input.runId as string, stepId);
      const attempt = {
        attemptId, stepId, runId, number: 1, state: 'failed', executor: 'simulation', branch: 'b', baseCommit: 'a'.repeat(40), commit: null,
        exitCode: 1, failureCode: 'EXECUTOR_FAILED', summary: otherAttempt, changedFiles: null, startedAt: null, endedAt: null,
        createdAt: step.createdAt, updatedAt: step.updatedAt,
      };
      return { ...step, task: input.task, attempts: [attempt] };
    };
    const dispatched = await callVerb(t.url, a.token, 'steps.dispatch', { runId, executor: 'simulation', task: otherRun });
    expect(dispatched.status).toBe(200);

    expect(await t.store.getOwner(a.org.id, stepId)).toBe(c.instanceId);
    expect(await t.store.getOwner(a.org.id, attemptId)).toBe(c.instanceId);
    expect(await t.store.getOwner(a.org.id, otherRun)).toBeUndefined();
    expect(await t.store.getOwner(a.org.id, otherAttempt)).toBeUndefined();

    const before = c.requests.length;
    expect((await callVerb(t.url, a.token, 'runs.get', { runId: otherRun })).body.code).toBe('RUN_NOT_FOUND');
    expect((await callVerb(t.url, a.token, 'attempts.get', { attemptId: otherAttempt })).body.code).toBe('ATTEMPT_NOT_FOUND');
    expect(c.requests).toHaveLength(before);
  });
});
