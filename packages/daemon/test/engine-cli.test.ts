import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run, Step } from '@sluice/shared-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { runRef } from '../src/git/refs.js';
import { DaemonProcess } from './helpers-exec/daemon-process.js';
import { FIXED_MATH, writeTask } from './helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';

let d: DaemonProcess | null = null;
afterEach(async () => {
  await d?.cleanup();
  d = null;
});

describe('following a run from the sluice CLI', () => {
  it('run open, step dispatch with live progress, approve, diff, cancel, abort', async () => {
    d = new DaemonProcess({ approval: { policy: 'always', remote: false } });
    await d.start();
    const opened = d.sluice('run', 'open', 'demo', '--title', 'fix add', '--json');
    expect(opened.code, opened.stderr).toBe(0);
    const run = JSON.parse(opened.stdout) as Run;
    expect(run.branch).toBe(`sluice/run/${run.runId}`);

    const taskFile = join(d.dir, 'task.md');
    writeFileSync(taskFile, `Fix the bug in src/math.js\n${writeTask('src/math.js', FIXED_MATH)}summary add() adds`);
    const dispatched = d.sluice('step', 'dispatch', run.runId, '--executor', 'sim', '--task-file', taskFile, '--validate', 'test');
    expect(dispatched.code, dispatched.stderr).toBe(0);
    const out = dispatched.stdout;
    expect(out).toMatch(/attempt 1: queued → preparing/);
    expect(out).toMatch(/attempt 1: preparing → running/);
    expect(out).toMatch(/attempt 1 \| \[sim\] write src\/math\.js/);
    expect(out).toMatch(/attempt 1: validation test passed/);
    expect(out).toMatch(/attempt 1: validating → awaiting_approval/);
    expect(out).toMatch(/waiting for approval at gate gat_/);
    expect(out).toContain('add() adds');
    const stepId = /step (stp_[0-9A-Z]+) \(seq 1\) queued/.exec(out)![1]!;

    const approved = d.sluice('approve', stepId, '--reason', 'reviewed');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/approved: attempt att_\w+ accepted/);
    const step = await d.call<Step>('steps.get', { stepId });
    expect(step.state).toBe('succeeded');
    const attemptId = step.attempts[0]!.attemptId;
    expect(git(d.repo, 'rev-parse', runRef(run.runId))).toBe(step.attempts[0]!.commit);

    const diff = d.sluice('diff', attemptId);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('-export const add = (a, b) => a - b;');
    expect(diff.stdout).toContain('+export const add = (a, b) => a + b;');
    expect(d.sluice('diff', attemptId, '--stat').stdout).toBe('M\tsrc/math.js\n');

    const long = JSON.parse(d.sluice('step', 'dispatch', run.runId, '--executor', 'sim', '--task', 'sleep 60000', '--no-follow', '--json').stdout) as Step;
    const longAttempt = long.attempts[0]!.attemptId;
    const cancelled = d.sluice('cancel', longAttempt, '--reason', 'too slow');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toBe(`attempt ${longAttempt} cancelled\n`);
    expect(d.sluice('cancel', longAttempt).stdout).toMatch(/had already finished \(cancelled\); nothing changed/);

    const aborted = d.sluice('abort', run.runId, '--reason', 'done for today');
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toMatch(/aborted; its branch sluice\/run\/run_\w+ is kept/);

    const bad = d.sluice('step', 'dispatch', run.runId, '--executor', 'sim', '--task', 'x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/RUN_NOT_OPEN/);
    expect(d.sluice('cancel', 'not-an-id').stderr).toMatch(/BAD_REQUEST/);
  });

  it('a failed step exits non-zero and says how to retry', async () => {
    d = new DaemonProcess();
    await d.start();
    const run = JSON.parse(d.sluice('run', 'open', 'demo', '--json').stdout) as Run;
    const r = d.sluice('step', 'dispatch', run.runId, '--executor', 'sim', '--task', 'fail could not do it');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/attempt 1: running → failed \(code EXECUTOR_FAILED, exit 1/);
    expect(r.stdout).toMatch(/retry: sluice step retry stp_/);
    const missing = d.sluice('step', 'dispatch', run.runId, '--executor', 'nope', '--task', 'x');
    expect(missing.stderr).toMatch(/EXECUTOR_NOT_ALLOWED/);
  });
});
