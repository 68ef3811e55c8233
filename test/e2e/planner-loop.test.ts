import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERBS } from '@sluice/shared-protocol';
import type { StepDetail } from '@sluice/shared-protocol';
import {
  FIX_TASK,
  LONG_TASK,
  WRONG_FIX_TASK,
  HttpPlanner,
  McpPlanner,
  PlannerError,
  followEvents,
  git,
  startStack,
} from '../helpers/index.mjs';
import type { Planner, Stack } from '../helpers/index.mjs';

const SETTLED = ['awaiting_approval', 'succeeded', 'failed', 'cancelled'];

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ approval: { policy: 'always', remote: true } });
}, 60_000);

afterAll(async () => {
  const results = await stack?.stop();
  // Every process must have stopped by itself on SIGTERM.
  for (const [name, r] of Object.entries(results ?? {})) expect(r?.clean, `${name} stopped cleanly`).toBe(true);
}, 60_000);

/** Follow events from `after` until the step settles; returns the step and the cursor. */
async function settle(planner: Planner, runId: string, stepId: string, after: number) {
  const res = await followEvents(planner, {
    runId,
    after,
    timeoutMs: 20_000,
    until: (e) => e.type === 'step.state_changed' && e.stepId === stepId && SETTLED.includes(String(e.data['to'])),
  });
  const step: StepDetail = await planner.call('steps.get', { stepId });
  return { step, cursor: res.cursor, events: res.events };
}

async function readArtifact(planner: Planner, runId: string, digest: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await planner.call('artifacts.get', { runId, digest, offset, length: 100 });
    const buf = Buffer.from(r.content, r.encoding === 'base64' ? 'base64' : 'utf8');
    parts.push(buf);
    offset += buf.length;
    if (r.eof || buf.length === 0) break;
  }
  return Buffer.concat(parts);
}

describe.each([
  ['/api/v2', (url: string, token: string): Planner => new HttpPlanner(url, token)],
  ['/mcp', (url: string, token: string): Planner => new McpPlanner(url, token)],
])('the whole loop through relay, connector, daemon and git, planner over %s', (_surface, makePlanner) => {
  let planner: Planner;
  beforeAll(async () => {
    planner = await makePlanner(stack.relay.url!, stack.org.plannerToken).connect();
  });
  afterAll(async () => {
    await planner?.close();
  });

  it('fixes the bug behind an approval, refuses a failing change, and cancels a long step', async () => {
    const repo = stack.repo.path;
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: `loop over ${planner.kind}` });
    const runRef = `refs/heads/${run.branch.replace(/^refs\/heads\//, '')}`;
    expect(await git(repo, ['rev-parse', runRef])).toBe(stack.repo.head);

    // Step 1: fixed by the simulation executor, validation passes, approval waits, approve moves the branch.
    const step1 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'], idempotencyKey: 'fix' });
    const dup = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'], idempotencyKey: 'fix' });
    expect(dup.stepId).toBe(step1.stepId);
    const s1 = await settle(planner, run.runId, step1.stepId, 0);
    expect(s1.step.state).toBe('awaiting_approval');
    expect(s1.step.validationResults.map((v) => [v.name, v.passed])).toEqual([['test', true]]);
    const gate = s1.step.gates.find((g) => g.kind === 'approval' && g.status === 'pending');
    expect(gate).toBeDefined();
    expect(await git(repo, ['rev-parse', runRef])).toBe(stack.repo.head);

    await planner.call('gates.approve', { gateId: gate!.gateId, reason: 'looks right' });
    const done1 = await planner.call('steps.wait', { stepId: step1.stepId, timeoutMs: 10_000 });
    expect(done1.state).toBe('succeeded');
    const accepted = done1.attempts.find((a) => a.attemptId === done1.acceptedAttemptId)!;
    const head1 = await git(repo, ['rev-parse', runRef]);
    expect(head1).toBe(accepted.commit);
    expect(await git(repo, ['show', `${runRef}:src/math.js`])).toContain('return a + b;');

    // The diff, by digest, in bounded chunks, matches its digest.
    const { artifacts } = await planner.call('artifacts.list', { runId: run.runId, attemptId: accepted.attemptId });
    const diff = artifacts.find((a) => a.kind === 'diff')!;
    const bytes = await readArtifact(planner, run.runId, diff.digest);
    expect(bytes.length).toBe(diff.size);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(diff.digest);
    expect(bytes.toString('utf8')).toMatch(/^\+\s+return a \+ b;$/m);

    // Step 2 fails validation: the run branch does not move.
    const step2 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: WRONG_FIX_TASK, validations: ['test'] });
    const s2 = await settle(planner, run.runId, step2.stepId, s1.cursor);
    expect(s2.step.state).toBe('failed');
    expect(s2.step.validationResults.find((v) => v.name === 'test')?.passed).toBe(false);
    expect(await git(repo, ['rev-parse', runRef])).toBe(head1);

    // Step 3 runs until cancelled; the cancel answers once the process is gone.
    const step3 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: LONG_TASK });
    await followEvents(planner, {
      runId: run.runId,
      after: s2.cursor,
      until: (e) => e.type === 'attempt.state_changed' && e.stepId === step3.stepId && e.data['to'] === 'running',
    });
    const attemptId = (await planner.call('steps.get', { stepId: step3.stepId })).attempts[0]!.attemptId;
    const cancelled = await planner.call('attempts.cancel', { attemptId, reason: 'too slow' });
    expect(cancelled.attempt.state).toBe('cancelled');
    expect(cancelled.alreadyFinished).toBe(false);
    expect((await planner.call('steps.get', { stepId: step3.stepId })).state).toBe('cancelled');
    expect(await git(repo, ['rev-parse', runRef])).toBe(head1);

    // The operator's checkout was never touched.
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(stack.repo.head);
    expect(await git(repo, ['status', '--porcelain'])).toBe('');
    expect(await git(repo, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main');

    const closed = await planner.call('runs.close', { runId: run.runId });
    expect(closed.state).toBe('completed');
  }, 90_000);

  it('records the planner as the actor in the daemon ledger', async () => {
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId });
    expect(run.createdBy).toMatch(/^planner:org_[0-9A-Z]{26}\/tok_[0-9A-Z]{26}$/);
    const local = await stack.daemon.verb('runs.get', { runId: run.runId });
    expect(local.createdBy).toBe(run.createdBy);
  });

  it('refuses a verb that does not exist and unknown ids with stable codes', async () => {
    const err = await planner.call('runs.get', { runId: 'run_00000000000000000000000000' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlannerError);
    expect((err as PlannerError).code).toBe('RUN_NOT_FOUND');
  });
});

describe('surfaces', () => {
  it('MCP lists exactly the verb table as tools', async () => {
    const mcp = await new McpPlanner(stack.relay.url!, stack.org.plannerToken).connect();
    try {
      expect(await mcp.toolNames()).toEqual(Object.values(VERBS).map((v) => v.mcpName).sort());
    } finally {
      await mcp.close();
    }
  });

  it('/api/v2 and /mcp refuse a missing or wrong token', async () => {
    const res = await fetch(`${stack.relay.url}/api/v2/runs.list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('UNAUTHENTICATED');
    const mcp = await fetch(`${stack.relay.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer slc_pat_nope' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get('www-authenticate')).toMatch(/resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource/);
  });
});
