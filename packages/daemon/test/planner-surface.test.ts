import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '@sluice/shared-protocol';
import { git } from '@sluice/test-kit';
import { runRef } from '../src/git/refs.js';
import { EngineHarness, FIXED_MATH, writeTask } from './helpers-exec/engine-harness.js';

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

/** The refusal a call ends with. */
async function refusal(p: Promise<unknown>): Promise<SluiceError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof SluiceError)) throw new Error(`expected a SluiceError, got ${String(err)}`);
  return err;
}

const DESCRIBED = {
  executors: {
    sim: { adapter: 'simulation', description: 'Scripted edits for the demo.' },
    claude: { adapter: 'claude-code', binary: '/home/operator/bin/sluice-no-such-cli', description: 'Claude Code with the operator login.' },
  },
  validations: {
    test: { argv: [process.execPath, 'test.js'], timeout: '30s', description: 'Runs node test.js.' },
    lint: { argv: ['npm', 'run', 'lint'], timeout: '2m', showArgv: true },
  },
};

describe('workspaces.describe', () => {
  it('tells each executor with its task language and readiness, each validation with its timeout, and the rules; argv only on opt-in', async () => {
    h = await new EngineHarness({ workspace: { ...DESCRIBED, approval: { policy: 'always', remote: false } } }).start();
    const d = await h.call('workspaces.describe', { workspaceId: 'demo' });
    const sim = d.executors.find((e) => e.name === 'sim')!;
    expect(sim).toMatchObject({ adapter: 'simulation', description: 'Scripted edits for the demo.', commands: { kind: 'none' }, preflight: { status: 'ready' } });
    expect(sim.task).toContain('write <path>');
    expect(sim.task).toContain('TASK_NOT_UNDERSTOOD');
    expect(sim.timeout).toEqual({ defaultMs: 30 * 60 * 1000, maxMs: 24 * 60 * 60 * 1000 });
    const claude = d.executors.find((e) => e.name === 'claude')!;
    expect(claude.task).toMatch(/^Plain English/);
    expect(claude.preflight.status).toBe('not_found');
    expect(claude.preflight.message).toContain('sluice-no-such-cli');
    expect(claude.preflight.message).not.toContain('/home/operator');
    expect(d.validations).toEqual([
      { name: 'test', description: 'Runs node test.js.', timeoutMs: 30_000 },
      { name: 'lint', description: null, timeoutMs: 120_000, argv: ['npm', 'run', 'lint'] },
    ]);
    expect(d.approval).toMatchObject({ policy: 'always', remote: false });
    expect(d.approval.note).toContain('REMOTE_APPROVAL_DISABLED');
    expect(d.steps.order).toBe('sequential');
    expect(d.stepTimeout.coversValidations).toBe(false);
    expect(d.attempts).toMatchObject({ maxPerStep: 4, concurrency: 4 });
    expect(JSON.stringify(d)).not.toContain(h.repo);
  });

  it('answers WORKSPACE_NOT_FOUND for a workspace the caller is not shared', async () => {
    h = await new EngineHarness().start();
    const err = await refusal(h.service.call('workspaces.describe', { workspaceId: 'demo' }, { actor: 'planner:org_1/tok_1', sharedWorkspaces: new Set(['other']) }));
    expect(err.code).toBe('WORKSPACE_NOT_FOUND');
  });
});

describe('honest no-ops', () => {
  it('a simulation task with no directive fails TASK_NOT_UNDERSTOOD, naming the language', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'Please fix the failing test in src/math.js.' });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]).toMatchObject({ failureCode: 'TASK_NOT_UNDERSTOOD', changedFiles: 0 });
    expect(d.attempts[0]!.summary).toContain('write <path>');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(h.base);
  });

  it('every attempt records the files it changed; a step whose accepted attempt changed nothing says noChanges', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const fix = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('src/math.js', FIXED_MATH) });
    const idle = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'summary nothing to do' });
    const d1 = await h.settle(fix.stepId);
    const d2 = await h.settle(idle.stepId);
    expect([d1.state, d2.state]).toEqual(['succeeded', 'succeeded']);
    expect(d1.attempts[0]!.changedFiles).toBe(1);
    expect(d1.noChanges).toBe(false);
    expect(d2.attempts[0]!.changedFiles).toBe(0);
    expect(d2.noChanges).toBe(true);
  });

  it('a dispatch the workspace policy overrides answers the effective value and why', async () => {
    h = await new EngineHarness({ workspace: { approval: { policy: 'always', remote: true } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'sleep 1', approval: false });
    expect(s.approvalRequired).toBe(true);
    expect(s.effective).toEqual({ approval: true, reason: expect.stringContaining('workspace approval policy is always') });
    const none = await new EngineHarness().start();
    try {
      const r = await none.call('runs.open', { workspaceId: 'demo' });
      expect((await none.call('steps.dispatch', { runId: r.runId, executor: 'sim', task: 'sleep 1', approval: false })).effective).toBeUndefined();
    } finally {
      await none.cleanup();
    }
  });
});

describe('steps.cancel', () => {
  it('cancels every live attempt of a step, keeps the reason apart from the summary, and is idempotent', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'sleep 60000', attempts: 2 });
    await Promise.all(s.attempts.map((a) => h!.attemptIn(a.attemptId, ['running'])));
    const out = await h.call('steps.cancel', { stepId: s.stepId, reason: 'not needed any more' });
    expect(out.state).toBe('cancelled');
    expect(out.attempts.map((a) => [a.state, a.decisionReason])).toEqual([
      ['cancelled', 'not needed any more'],
      ['cancelled', 'not needed any more'],
    ]);
    expect(out.attempts.map((a) => a.summary)).not.toContain('not needed any more');
    const again = await h.call('steps.cancel', { stepId: s.stepId });
    expect(again.state).toBe('cancelled');
    expect(again.updatedAt).toBe(out.updatedAt);
  });

  it('refuses an unknown step with STEP_NOT_FOUND', async () => {
    h = await new EngineHarness().start();
    expect((await refusal(h.call('steps.cancel', { stepId: 'stp_01ARZ3NDEKTSV4RRFFQ69G5FAV' }))).code).toBe('STEP_NOT_FOUND');
  });
});

describe('runs.diff and runs.get changes', () => {
  it('gives base..head of the run branch as a diffstat and a readable diff artifact; an unmoved run has none', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const empty = await h.call('runs.diff', { runId: run.runId });
    expect(empty).toMatchObject({ branchMoved: false, changes: { files: 0, insertions: 0, deletions: 0 }, files: [], diff: null, diffTooLarge: false });
    expect(await h.call('runs.get', { runId: run.runId })).toMatchObject({ branchMoved: false, changes: { files: 0 } });

    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: `${writeTask('src/math.js', FIXED_MATH)}${writeTask('NOTES.md', 'one\ntwo\n')}` });
    expect((await h.settle(s.stepId)).state).toBe('succeeded');
    const diff = await h.call('runs.diff', { runId: run.runId });
    expect(diff.branchMoved).toBe(true);
    expect(diff.changes).toEqual({ files: 2, insertions: 3, deletions: 1 });
    expect(diff.files.map((f) => [f.path, f.status, f.insertions, f.deletions])).toEqual([
      ['NOTES.md', 'A', 2, 0],
      ['src/math.js', 'M', 1, 1],
    ]);
    expect(diff.diff).toMatchObject({ kind: 'diff', runId: run.runId, stepId: null, attemptId: null });
    const read = await h.call('artifacts.get', { runId: run.runId, digest: diff.diff!.digest });
    expect(read.content).toContain('+export const add = (a, b) => a + b;');
    expect(read.content).toContain('+++ b/NOTES.md');
    const got = await h.call('runs.get', { runId: run.runId });
    expect(got).toMatchObject({ branchMoved: true, changes: { files: 2, insertions: 3, deletions: 1 } });
    // Asking again stores nothing new.
    const before = h.store.listArtifacts({ runId: run.runId }).length;
    expect((await h.call('runs.diff', { runId: run.runId })).diff!.digest).toBe(diff.diff!.digest);
    expect(h.store.listArtifacts({ runId: run.runId }).length).toBe(before);
  });

  it('stores no diff over the diff limit and says so', async () => {
    h = await new EngineHarness({ daemon: { artifacts: { diffLimit: '1KiB' } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    // A head the operator made by hand in a side worktree: 4 KiB of new lines, over the 1 KiB cap.
    const side = `${h.dir}/side`;
    git(h.repo, 'worktree', 'add', '-q', '--detach', side, h.base);
    writeFileSync(`${side}/big.txt`, 'x'.repeat(63).concat('\n').repeat(64));
    git(side, 'add', 'big.txt');
    git(side, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'big');
    h.store.setRunHead(run.runId, git(side, 'rev-parse', 'HEAD'), 'system:engine');
    const d = await h.call('runs.diff', { runId: run.runId });
    expect(d).toMatchObject({ branchMoved: true, changes: { files: 1, insertions: 64, deletions: 0 }, diff: null, diffTooLarge: true });
  });
});

describe('misbehaviours', () => {
  it('an idempotent replay answers the step as it is now, with replayed: true', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const input = { runId: run.runId, executor: 'sim', task: 'sleep 60000', idempotencyKey: 'once' };
    const first = await h.call('steps.dispatch', input);
    expect(first.replayed).toBeUndefined();
    await h.attemptIn(first.attempts[0]!.attemptId, ['running']);
    await h.call('steps.cancel', { stepId: first.stepId });
    const again = await h.call('steps.dispatch', input);
    expect(again).toMatchObject({ stepId: first.stepId, state: 'cancelled', replayed: true });
  });

  it('a bogus runs.list cursor is CURSOR_INVALID, not an empty page', async () => {
    h = await new EngineHarness().start();
    await h.call('runs.open', { workspaceId: 'demo' });
    expect((await refusal(h.call('runs.list', { cursor: 'bogus' }))).code).toBe('CURSOR_INVALID');
    expect((await refusal(h.call('runs.list', { cursor: 'run_01ARZ3NDEKTSV4RRFFQ69G5FAV' }))).code).toBe('CURSOR_INVALID');
  });

  it('a step or attempt of another run named beside a run is an error, not an empty list', async () => {
    h = await new EngineHarness().start();
    const a = await h.call('runs.open', { workspaceId: 'demo' });
    const b = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: b.runId, executor: 'sim', task: 'sleep 1' });
    await h.settle(s.stepId);
    expect((await refusal(h.call('artifacts.list', { runId: a.runId, stepId: s.stepId }))).code).toBe('STEP_NOT_FOUND');
    expect((await refusal(h.call('artifacts.list', { runId: a.runId, attemptId: s.attempts[0]!.attemptId }))).code).toBe('ATTEMPT_NOT_FOUND');
    expect((await h.call('artifacts.list', { runId: b.runId, stepId: s.stepId, attemptId: s.attempts[0]!.attemptId })).artifacts.length).toBeGreaterThan(0);
  });

  it('a reject reason is the attempt decisionReason; the executor summary stays', async () => {
    h = await new EngineHarness({ workspace: { approval: { policy: 'always', remote: true } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: `${writeTask('src/math.js', FIXED_MATH)}summary add() adds` });
    const waiting = await h.settle(s.stepId);
    const gate = waiting.gates.find((g) => g.kind === 'approval')!;
    await h.call('gates.reject', { gateId: gate.gateId, reason: 'wrong approach' });
    const a = h.store.getAttempt(waiting.attempts[0]!.attemptId)!;
    expect(a).toMatchObject({ state: 'failed', failureCode: 'REJECTED', summary: 'add() adds', decisionReason: 'wrong approach' });
  });
});

describe('errors list what is allowed', () => {
  it('EXECUTOR_NOT_ALLOWED, VALIDATION_NOT_DEFINED and ATTEMPT_CHOICE_REQUIRED carry `allowed`', async () => {
    h = await new EngineHarness({ workspace: { approval: { policy: 'always', remote: true } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const exec = await refusal(h.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: 'sleep 1' }));
    expect(exec.toBody()).toMatchObject({ code: 'EXECUTOR_NOT_ALLOWED', allowed: ['sim'] });
    const val = await refusal(h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'sleep 1', validations: ['tests'] }));
    expect(val.toBody()).toMatchObject({ code: 'VALIDATION_NOT_DEFINED', allowed: ['test'] });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('a.txt', 'attempt {{attempt}}\n'), attempts: 2 });
    const waiting = await h.settle(s.stepId);
    expect(waiting.state).toBe('awaiting_approval');
    const gate = waiting.gates.find((g) => g.kind === 'approval')!;
    const choice = await refusal(h.call('gates.approve', { gateId: gate.gateId }));
    expect(choice.toBody()).toMatchObject({ code: 'ATTEMPT_CHOICE_REQUIRED', allowed: [...gate.candidates] });
    expect(gate.candidates).toHaveLength(2);
  });
});
