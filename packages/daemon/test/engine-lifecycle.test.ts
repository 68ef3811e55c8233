import { afterEach, describe, expect, it } from 'vitest';
import { runRef } from '../src/git/refs.js';
import { EngineHarness, FIXED_MATH, writeTask } from './helpers-exec/engine-harness.js';
import { git, operatorFingerprint } from '@sluice/test-kit';

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

describe('engine: steps, validations, approval, run branch', () => {
  it('a passing step moves the run branch and the next step starts from it; the operator tree is untouched', async () => {
    h = await new EngineHarness().start();
    h.writeRepoFile('notes.txt', 'operator is typing\n'); // untracked operator work
    const before = operatorFingerprint(h.repo);
    const run = await h.call('runs.open', { workspaceId: 'demo', title: 'fix add' });
    const s1 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: `Fix the bug in src/math.js\n${writeTask('src/math.js', FIXED_MATH)}summary add() adds`, validations: ['test'] });
    const s2 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('CHANGELOG.md', '- fixed add()\n') });
    const d1 = await h.settle(s1.stepId);
    expect(d1.state).toBe('succeeded');
    const a1 = d1.attempts[0]!;
    expect(a1.state).toBe('succeeded');
    expect(a1.summary).toBe('add() adds');
    expect(d1.validationResults.map((v) => [v.name, v.passed])).toEqual([['test', true]]);
    expect(d1.gates.map((g) => [g.kind, g.status])).toEqual([['validation', 'passed']]);
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(a1.commit);
    expect(git(h.repo, 'show', `${runRef(run.runId)}:src/math.js`)).toBe(FIXED_MATH.trim());

    const d2 = await h.settle(s2.stepId);
    expect(d2.state).toBe('succeeded');
    const a2 = d2.attempts[0]!;
    expect(a2.baseCommit).toBe(a1.commit);
    expect(await h.artifactText(a2.attemptId, 'changed-files')).toBe('A\tCHANGELOG.md\n');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(a2.commit);
    expect(git(h.repo, 'rev-parse', `${a2.commit}~1`)).toBe(a1.commit);
    expect(h.store.getRun(run.runId)!.headCommit).toBe(a2.commit);

    const kinds = (await h.call('artifacts.list', { runId: run.runId, attemptId: a1.attemptId })).artifacts.map((r) => r.kind).sort();
    expect(kinds).toEqual(['changed-files', 'diff', 'stderr', 'stdout', 'task', 'validation-stderr', 'validation-stdout']);
    expect(await h.artifactText(a1.attemptId, 'diff')).toContain('+export const add = (a, b) => a + b;');
    expect(operatorFingerprint(h.repo)).toBe(before);
    expect(git(h.repo, 'status', '--porcelain')).toBe('?? notes.txt');
  });

  it('a step whose result fails validation fails and leaves the run branch where it was', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('src/math.js', 'export const add = (a, b) => a * 0;\n'), validations: ['test'] });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.failureCode).toBe('VALIDATION_FAILED');
    expect(d.validationResults[0]!.passed).toBe(false);
    expect(d.validationResults[0]!.exitCode).toBe(1);
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(h.base);
    // The failed attempt's work is still kept on its branch.
    expect(git(h.repo, 'show', `${d.attempts[0]!.branch}:src/math.js`)).toContain('a * 0');
  });

  it('an executor silent for its idleTimeout is stopped and fails STALLED; what it wrote is still committed', async () => {
    h = await new EngineHarness({ workspace: { executors: { sim: { adapter: 'simulation' }, slow: { adapter: 'simulation', idleTimeout: '1s' } } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'slow', task: `${writeTask('partial.txt', 'half done\n')}sleep 60000` });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.failureCode).toBe('STALLED');
    expect(d.attempts[0]!.summary).toMatch(/printed nothing for 1000 ms \(idleTimeout\)/);
    expect(git(h.repo, 'show', `${d.attempts[0]!.commit}:partial.txt`)).toBe('half done');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(h.base);
  });

  it('an executor that fails leaves the run branch unchanged and can be retried', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'fail the agent gave up' });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.failureCode).toBe('EXECUTOR_FAILED');
    expect(d.attempts[0]!.exitCode).toBe(1);
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(h.base);
    const retried = await h.call('steps.retry', { stepId: s.stepId });
    expect(retried.attempts[0]!.number).toBe(2);
    const again = await h.settle(s.stepId);
    expect(again.state).toBe('failed');
    expect(h.store.listAttempts(s.stepId).length).toBe(2);
  });

  it('workspace policy "always" waits for approval; approve moves the branch, reject does not', async () => {
    h = await new EngineHarness({ workspace: { approval: { policy: 'always', remote: false } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s1 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('src/math.js', FIXED_MATH), validations: ['test'] });
    const d1 = await h.settle(s1.stepId);
    expect(d1.state).toBe('awaiting_approval');
    expect(d1.attempts[0]!.state).toBe('awaiting_approval');
    const gate = d1.gates.find((g) => g.kind === 'approval')!;
    expect(gate.status).toBe('pending');
    expect(gate.rule).toBe('workspace approval policy: always');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(h.base);
    const decided = await h.call('gates.approve', { gateId: gate.gateId, reason: 'looks right' });
    expect(decided.status).toBe('approved');
    expect(decided.decidedBy).toBe('local:tester');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(d1.attempts[0]!.commit);

    const s2 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('extra.txt', 'x\n') });
    const d2 = await h.settle(s2.stepId);
    expect(d2.attempts[0]!.baseCommit).toBe(d1.attempts[0]!.commit);
    const g2 = d2.gates.find((g) => g.kind === 'approval')!;
    await h.call('gates.reject', { gateId: g2.gateId, reason: 'not wanted' });
    expect((await h.call('steps.get', { stepId: s2.stepId })).state).toBe('failed');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(d1.attempts[0]!.commit);
  });

  it('two parallel attempts edit the same file differently; each diff is exact; approving one names it', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('src/math.js', 'export const variant = {{attempt}};\n'), attempts: 2 });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('awaiting_approval');
    const [a, b] = d.attempts;
    expect(a!.state).toBe('awaiting_approval');
    expect(b!.state).toBe('awaiting_approval');
    const diffA = await h.artifactText(a!.attemptId, 'diff');
    const diffB = await h.artifactText(b!.attemptId, 'diff');
    expect(diffA).toContain(`+export const variant = ${a!.number};`);
    expect(diffA).not.toContain(`variant = ${b!.number}`);
    expect(diffB).toContain(`+export const variant = ${b!.number};`);
    expect(diffA).toContain('-export const add = (a, b) => a - b;');
    const gate = d.gates.find((g) => g.kind === 'approval')!;
    expect(gate.candidates.sort()).toEqual([a!.attemptId, b!.attemptId].sort());
    await expect(h.call('gates.approve', { gateId: gate.gateId })).rejects.toMatchObject({ code: 'ATTEMPT_CHOICE_REQUIRED' });
    await h.call('gates.approve', { gateId: gate.gateId, attemptId: b!.attemptId });
    expect(git(h.repo, 'show', `${runRef(run.runId)}:src/math.js`)).toBe(`export const variant = ${b!.number};`);
    expect(h.store.getAttempt(a!.attemptId)!.state).toBe('cancelled');
    expect((await h.call('steps.get', { stepId: s.stepId })).acceptedAttemptId).toBe(b!.attemptId);
  });

  it('a missing agent CLI fails the attempt with EXECUTOR_NOT_FOUND, never a fallback', async () => {
    h = await new EngineHarness({ workspace: { executors: { claude: { adapter: 'claude-code' } } } }).start({ env: { PATH: '/nonexistent', HOME: '/tmp' } });
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'claude', task: 'fix it' });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.failureCode).toBe('EXECUTOR_NOT_FOUND');
    expect(d.attempts[0]!.summary).toMatch(/claude was not found on PATH/);
  });
});
