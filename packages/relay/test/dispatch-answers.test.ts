import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '@sluice/shared-protocol';
import { fakeId, PLANNER_SCOPES, workspace } from '@sluice/test-kit';
import type { FakeConnector } from '@sluice/test-kit';
import { callVerb, connectedConnector, fakeRun, fakeStep, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

const TTL = 60_000;

describe('stored answers of idempotent dispatches', () => {
  let t: TestRelay;
  let a: Awaited<ReturnType<typeof orgWithToken>>;
  let c: FakeConnector;
  let clock = Date.now();
  let dispatched = 0;

  beforeEach(async () => {
    clock = Date.now();
    dispatched = 0;
    t = await startRelay({ dispatchAnswerTtlMs: TTL }, { now: () => clock });
    a = await orgWithToken(t.store, 'org-a', PLANNER_SCOPES);
    c = await connectedConnector(t, a.org.id, [workspace('ws1')]);
    const steps = new Map<string, ReturnType<typeof fakeStep>>();
    c.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
    c.handlers['steps.dispatch'] = (input) => {
      dispatched++;
      const step = { ...fakeStep(input.runId as string, fakeId('stp'), input.idempotencyKey as string), task: input.task as string };
      steps.set(step.stepId, step);
      return step;
    };
    c.handlers['steps.get'] = (i) => ({ ...steps.get(i.stepId as string)!, state: 'running', gates: [], validationResults: [] });
  });
  afterEach(async () => {
    c.close();
    await t.close();
  });

  function everyStoredText(): string {
    const tables = t.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.map(({ name }) => JSON.stringify(t.store.db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
  }

  it('keep only the input hash and the step id, replay the step as it is now, and expire after the TTL', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const input = { runId, executor: 'simulation', task: 'secret-task-text-9f3a', idempotencyKey: 'k-ttl' };
    const first = await callVerb(t.url, a.token, 'steps.dispatch', input);
    expect(first.status).toBe(200);
    expect(first.body).not.toHaveProperty('replayed');
    expect(everyStoredText()).not.toContain('secret-task-text-9f3a');
    expect(t.store.db.prepare('SELECT step_id FROM dispatch_answers').all()).toEqual([{ step_id: first.body.stepId }]);

    clock += TTL - 1000;
    const replay = await callVerb(t.url, a.token, 'steps.dispatch', input);
    expect(replay.body).toMatchObject({ stepId: first.body.stepId, state: 'running', replayed: true });
    expect(replay.body).not.toHaveProperty('gates');
    expect(dispatched).toBe(1);

    clock += 2000;
    const again = await callVerb(t.url, a.token, 'steps.dispatch', input);
    expect(again.status).toBe(200);
    expect(again.body.stepId).not.toBe(first.body.stepId);
    expect(dispatched).toBe(2);
    expect(t.store.db.prepare('SELECT step_id FROM dispatch_answers').all()).toEqual([{ step_id: again.body.stepId }]);
  });

  it('pass on the allowed values of a daemon refusal', async () => {
    const runId = (await callVerb(t.url, a.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const error = new SluiceError('EXECUTOR_NOT_ALLOWED', 'Executor nope is not configured.', undefined, { allowed: ['sim', 'claude'] }).toBody();
    c.handlers['steps.dispatch'] = (_input, f) => ({ raw: JSON.stringify({ type: 'response', id: f.id, ok: false, error }) });
    const res = await callVerb(t.url, a.token, 'steps.dispatch', { runId, executor: 'nope', task: 'x' });
    expect(res).toMatchObject({ status: 422, body: { code: 'EXECUTOR_NOT_ALLOWED', allowed: ['sim', 'claude'] } });
  });
});
