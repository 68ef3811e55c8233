import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runRef } from '../src/git/refs.js';
import { EngineHarness, writeTask } from './helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';
import { eventually, isAlive } from './helpers-exec/proc.js';

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

const STUBBORN = `${writeTask('partial.txt', 'half done\n')}ignore-sigterm
spawn-sleeper 60000
log ready
sleep 60000`;

function stdoutOf(h: EngineHarness, attemptId: string): string {
  const p = join(h.runtime.attempts, attemptId, 'stdout');
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

describe('engine: honest cancel, timeouts, abort', () => {
  it('a child ignoring SIGTERM is killed after the grace period; cancelled is recorded only after the exit; partial diff kept', async () => {
    // Unconfined: the sleeper's pid it prints must be a pid of this machine, not of a sandbox's PID namespace
    // (the confined kill is in sandbox-engine.test.ts).
    h = await new EngineHarness({ workspace: { sandbox: 'off' } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: STUBBORN });
    const attemptId = s.attempts[0]!.attemptId;
    await h.attemptIn(attemptId, ['running']);
    expect(await eventually(() => stdoutOf(h!, attemptId).includes('ready'), 10_000)).toBe(true);
    const leader = Number(readFileSync(join(h.runtime.attempts, attemptId, 'pid'), 'utf8').split('\n')[0]);
    const sleeper = Number(/spawned sleeper (\d+)/.exec(stdoutOf(h, attemptId))![1]);
    expect(isAlive(leader)).toBe(true);
    expect(isAlive(sleeper)).toBe(true);

    let aliveWhenRecorded: boolean | null = null;
    const off = h.store.bus.subscribe(() => {
      if (aliveWhenRecorded === null && h!.store.getAttempt(attemptId)!.state === 'cancelled') aliveWhenRecorded = isAlive(leader);
    });
    const out = await h.call('attempts.cancel', { attemptId, reason: 'operator changed their mind' });
    off();
    expect(out.alreadyFinished).toBe(false);
    expect(out.attempt.state).toBe('cancelled');
    expect(out.attempt.decisionReason).toBe('operator changed their mind');
    expect(out.attempt.summary).not.toBe('operator changed their mind');
    expect(aliveWhenRecorded).toBe(false);
    expect(isAlive(leader)).toBe(false);
    expect(await eventually(() => !isAlive(sleeper))).toBe(true);
    expect(stdoutOf(h, attemptId)).toContain('SIGTERM ignored');

    expect(await h.artifactText(attemptId, 'changed-files')).toBe('A\tpartial.txt\n');
    expect(await h.artifactText(attemptId, 'diff')).toContain('+half done');
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(h.base);
    expect((await h.call('steps.get', { stepId: s.stepId })).state).toBe('cancelled');

    const again = await h.call('attempts.cancel', { attemptId });
    expect(again.alreadyFinished).toBe(true);
    expect(again.attempt.state).toBe('cancelled');
  });

  it('cancelling during validation stops the validation process and records cancelled with the captured commit', async () => {
    h = await new EngineHarness({ workspace: { validations: { slow: { argv: [process.execPath, '-e', 'setInterval(()=>{},1000)'], timeout: '60s' } } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('a.txt', 'a\n'), validations: ['slow'] });
    const attemptId = s.attempts[0]!.attemptId;
    await h.attemptIn(attemptId, ['validating']);
    const out = await h.call('attempts.cancel', { attemptId });
    expect(out.attempt.state).toBe('cancelled');
    expect(out.attempt.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(out.attempt.changedFiles).toBe(1);
  });

  it('a step that runs past its timeout is stopped and recorded timed_out', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'sleep 60000', timeoutMs: 1000 });
    const d = await h.settle(s.stepId);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.state).toBe('timed_out');
    expect(d.attempts[0]!.failureCode).toBe('TIMED_OUT');
  });

  it('runs.abort cancels the running attempt and the queued step, and refuses new steps', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s1 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'sleep 60000' });
    const s2 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('x.txt', 'x') });
    await h.attemptIn(s1.attempts[0]!.attemptId, ['running']);
    const aborted = await h.call('runs.abort', { runId: run.runId, reason: 'stop everything' });
    expect(aborted.state).toBe('aborted');
    expect(h.store.getAttempt(s1.attempts[0]!.attemptId)!.state).toBe('cancelled');
    expect(h.store.getAttempt(s2.attempts[0]!.attemptId)!.state).toBe('cancelled');
    expect((await h.call('steps.get', { stepId: s2.stepId })).state).toBe('cancelled');
    await expect(h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x' })).rejects.toMatchObject({ code: 'RUN_NOT_OPEN' });
    expect(h.engine.liveCount).toBe(0);
  });

  it('respects the workspace concurrency: the third parallel attempt waits for a free slot', async () => {
    h = await new EngineHarness({ workspace: { concurrency: 2 } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'sleep 60000', attempts: 3 });
    const ids = s.attempts.map((a) => a.attemptId);
    const states = () => ids.map((id) => h!.store.getAttempt(id)!.state);
    expect(await eventually(() => states().filter((x) => x === 'running').length === 2, 15_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(states().filter((x) => x === 'queued').length).toBe(1);
    const waiting = ids[states().indexOf('queued')]!;
    await h.call('attempts.cancel', { attemptId: ids[states().indexOf('running')]! });
    await h.attemptIn(waiting, ['running']);
    await h.call('runs.abort', { runId: run.runId });
  });
});
