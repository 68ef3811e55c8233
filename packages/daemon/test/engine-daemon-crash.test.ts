import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Attempt, AttemptDetail, Step } from '@sluice/shared-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers-exec/daemon-process.js';
import { eventually, isAlive } from './helpers-exec/proc.js';
import { writeTask } from './helpers-exec/engine-harness.js';

let d: DaemonProcess | null = null;
let stray: number | null = null;
afterEach(async () => {
  if (stray && isAlive(stray)) process.kill(-stray, 'SIGKILL');
  stray = null;
  await d?.cleanup();
  d = null;
});

async function attemptState(dp: DaemonProcess, attemptId: string, states: string[]): Promise<AttemptDetail> {
  const end = Date.now() + 20_000;
  for (;;) {
    const a = await dp.call<AttemptDetail>('attempts.get', { attemptId });
    if (states.includes(a.state)) return a;
    if (Date.now() > end) throw new Error(`attempt stayed ${a.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a real daemon killed mid-attempt', () => {
  // Unconfined, the agent outlives the daemon (own process group) and recovery has to stop it; in the sandbox,
  // bwrap's --die-with-parent takes it down with the daemon.
  it.each([
    ['off', true],
    ['on', false],
  ] as const)('sandbox %s: records the attempt interrupted with its diff after a restart, no agent is left, and the step can be retried', async (sandbox, outlives) => {
    d = new DaemonProcess({ sandbox });
    await d.start();
    const run = await d.call<{ runId: string }>('runs.open', { workspaceId: 'demo' });
    const step = await d.call<Step>('steps.dispatch', { runId: run.runId, executor: 'sim', task: `${writeTask('partial.txt', 'written before the crash\n')}log ready\nsleep 60000` });
    const attemptId = step.attempts[0]!.attemptId;
    await attemptState(d, attemptId, ['running']);
    const stdout = join(d.runtime.attempts, attemptId, 'stdout');
    expect(await eventually(() => existsSync(stdout) && readFileSync(stdout, 'utf8').includes('ready'), 10_000)).toBe(true);
    const agentPid = Number(readFileSync(join(d.runtime.attempts, attemptId, 'pid'), 'utf8').split('\n')[0]);
    stray = agentPid;

    await d.kill('SIGKILL');
    expect(outlives ? isAlive(agentPid) : await eventually(() => !isAlive(agentPid))).toBe(true);

    await d.start();
    const a = await attemptState(d, attemptId, ['interrupted']);
    expect(a.failureCode).toBe('DAEMON_RESTARTED');
    expect(a.changedFiles).toBe(1);
    expect(a.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await eventually(() => !isAlive(agentPid))).toBe(true);
    const diff = d.sluice('diff', attemptId);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('+written before the crash');
    expect((await d.call<Step>('steps.get', { stepId: step.stepId })).state).toBe('failed');

    const retried = await d.call<Step>('steps.retry', { stepId: step.stepId });
    const second = retried.attempts[0]! as Attempt;
    expect(second.number).toBe(2);
    await attemptState(d, second.attemptId, ['running']);
    const cancelled = await d.call<{ attempt: Attempt; alreadyFinished: boolean }>('attempts.cancel', { attemptId: second.attemptId });
    expect(cancelled.attempt.state).toBe('cancelled');
    await d.kill('SIGTERM');
  });
});
