import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../src/artifacts/artifact-store.js';
import { fastForwardRun } from '../src/engine/index.js';
import { runRef } from '../src/git/refs.js';
import { WorktreeManager } from '../src/git/worktree-manager.js';
import { RecordOnlyEngine } from '../src/service/record-only-engine.js';
import { VerbService } from '../src/service/verb-service.js';
import { Store, openDatabase } from '../src/store/index.js';
import { EngineHarness, FIXED_MATH, writeTask } from './helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

describe('engine: restarts', () => {
  it('the queue lives in the ledger: a step queued while no engine runs is executed when one starts', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    await h.stop();
    // A daemon without an engine records the dispatch only.
    const store = new Store(openDatabase(join(h.home, 'state.db')));
    const artifacts = new ArtifactStore(join(h.home, 'artifacts'));
    const service = new VerbService({ store, artifacts, config: h.config, engine: new RecordOnlyEngine({ store, config: h.config }) });
    const step = await service.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('src/math.js', FIXED_MATH) }, { actor: 'local:tester', sharedWorkspaces: null });
    expect(step.attempts[0]!.state).toBe('queued');
    store.close();

    await h.start();
    const d = await h.settle(step.stepId);
    expect(d.state).toBe('succeeded');
    expect(git(h.repo, 'show', `${runRef(run.runId)}:src/math.js`)).toBe(FIXED_MATH.trim());
  });

  it('an approval gate survives a restart and can be decided afterwards', async () => {
    h = await new EngineHarness({ workspace: { approval: { policy: 'always', remote: false } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('src/math.js', FIXED_MATH) });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('awaiting_approval');
    await h.stop();
    await h.start();
    expect((await h.call('steps.get', { stepId: s.stepId })).state).toBe('awaiting_approval');
    const gate = (await h.call('gates.list', { runId: run.runId, status: 'pending' })).gates[0]!;
    await h.call('gates.approve', { gateId: gate.gateId });
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(d.attempts[0]!.commit);
  });

  it('a clean stop records live attempts interrupted with their changes, and the step can be retried', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: `${writeTask('partial.txt', 'half\n')}sleep 60000` });
    const attemptId = s.attempts[0]!.attemptId;
    await h.attemptIn(attemptId, ['running']);
    await new Promise((r) => setTimeout(r, 300));
    await h.stop();
    await h.start();
    const a = h.store.getAttempt(attemptId)!;
    expect(a.state).toBe('interrupted');
    expect(a.failureCode).toBe('DAEMON_STOPPED');
    expect(await h.artifactText(attemptId, 'changed-files')).toBe('A\tpartial.txt\n');
    expect((await h.call('steps.get', { stepId: s.stepId })).state).toBe('failed');
    const retried = await h.call('steps.retry', { stepId: s.stepId });
    const second = retried.attempts[0]!;
    expect(second.number).toBe(2);
    await h.attemptIn(second.attemptId, ['running']);
    await h.call('runs.abort', { runId: run.runId });
    expect(h.store.getAttempt(second.attemptId)!.state).toBe('cancelled');
  });

  it('an attempt whose commit the run branch already reached when the daemon died is recorded succeeded, not lost', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    await h.stop();
    // Replay by hand what a daemon did before dying: attempt running, work committed, run branch fast-forwarded.
    const store = new Store(openDatabase(join(h.home, 'state.db')));
    const artifacts = new ArtifactStore(join(h.home, 'artifacts'));
    const service = new VerbService({ store, artifacts, config: h.config, engine: new RecordOnlyEngine({ store, config: h.config }) });
    const step = await service.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x' }, { actor: 'local:tester', sharedWorkspaces: null });
    const attemptId = step.attempts[0]!.attemptId;
    store.transitionAttempt(attemptId, 'running', {}, 'system:engine');
    const mgr = new WorktreeManager({ worktreeRoot: h.runtime.worktrees });
    const wt = await mgr.create(h.repo, attemptId, h.base);
    writeFileSync(join(wt.path, 'done.txt'), 'done\n');
    const cap = await mgr.capture(wt, 'work');
    await fastForwardRun(store, h.repo, run.runId, cap.commit, 'system:engine');
    store.close();

    await h.start();
    const a = h.store.getAttempt(attemptId)!;
    expect(a.state).toBe('succeeded');
    expect(a.commit).toBe(cap.commit);
    expect((await h.call('steps.get', { stepId: step.stepId })).state).toBe('succeeded');
  });
});
