// Stopping the real `sluice daemon start` process with signals while a simulation attempt runs: the first SIGTERM
// lets the attempt finish, the second cancels it honestly, the third exits at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_EXIT_CODES } from '@sluice/node-kit';
import { DaemonNode, makeBuggyRepo, RelayNode, waitUntil } from '../helpers/index.mjs';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function daemonWithRunningAttempt(task: string, cancelGrace = '1s') {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-shutdown-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const repo = await makeBuggyRepo(join(dir, 'repo'));
  const daemon = new DaemonNode(join(dir, 'home'));
  cleanups.push(() => daemon.stop());
  await daemon.init();
  await daemon.addWorkspace(repo.path, 'web', { approval: { policy: 'none', remote: false } });
  daemon.editConfig((cfg) => (cfg.cancelGrace = cancelGrace));
  await daemon.start();
  const run = await daemon.verb('runs.open', { workspaceId: 'web' });
  const step = await daemon.verb('steps.dispatch', { runId: run.runId, executor: 'simulation', task });
  const attemptId = step.attempts[0]!.attemptId;
  await waitUntil(async () => (await daemon.verb('attempts.get', { attemptId })).state === 'running', { timeoutMs: 20_000, what: 'the attempt to run' });
  return { daemon, attemptId, stepId: step.stepId };
}

/** Send a signal and wait until the daemon printed `re` after it. */
async function signal(daemon: DaemonNode, re: RegExp): Promise<void> {
  const from = daemon.proc!.output.length;
  daemon.proc!.child.kill('SIGTERM');
  await daemon.proc!.waitForOutput(re, { from, timeoutMs: 20_000 });
}

describe('daemon shutdown signals', () => {
  it('the first SIGTERM lets the running attempt finish and succeed, then exits 0', async () => {
    const { daemon, attemptId, stepId } = await daemonWithRunningAttempt('sleep 1500\nwrite DONE.md\n<<<\ndone\n>>>\nsummary finished');
    await signal(daemon, /draining: 1 attempt running; waiting up to 10m0s; press Ctrl-C again to cancel them/);
    const exit = await daemon.proc!.exited;
    expect(exit).toEqual({ code: SHUTDOWN_EXIT_CODES.drained, signal: null });
    await daemon.start();
    expect((await daemon.verb('attempts.get', { attemptId })).state).toBe('succeeded');
    expect((await daemon.verb('steps.get', { stepId })).state).toBe('succeeded');
  }, 60_000);

  it('the second SIGTERM cancels the running attempt, recorded cancelled, and exits with the cancelled code', async () => {
    const { daemon, attemptId } = await daemonWithRunningAttempt('sleep 120000');
    await signal(daemon, /draining: 1 attempt running/);
    await signal(daemon, /second SIGTERM: cancelling the running work; press Ctrl-C again to exit at once/);
    const exit = await daemon.proc!.exited;
    expect(exit).toEqual({ code: SHUTDOWN_EXIT_CODES.cancelled, signal: null });
    await daemon.start();
    const a = await daemon.verb('attempts.get', { attemptId });
    expect(a).toMatchObject({ state: 'cancelled', failureCode: 'CANCELLED', decisionReason: 'cancelled while the daemon was stopping' });
    expect(a.endedAt).not.toBeNull();
  }, 60_000);

  it('the third SIGTERM exits at once with the forced code, while a cancel still waits for its grace period', async () => {
    const { daemon, attemptId } = await daemonWithRunningAttempt('ignore-sigterm\nsleep 120000', '10m');
    await signal(daemon, /draining: 1 attempt running/);
    await signal(daemon, /second SIGTERM: cancelling the running work/);
    daemon.proc!.child.kill('SIGTERM');
    const exit = await daemon.proc!.exited;
    expect(exit).toEqual({ code: SHUTDOWN_EXIT_CODES.forced, signal: null });
    expect(daemon.proc!.output).toMatch(/SIGTERM again: exiting now/);
    // The next daemon finds the attempt live in the ledger and records it interrupted (crash recovery).
    await daemon.start();
    await waitUntil(async () => (await daemon.verb('attempts.get', { attemptId })).state === 'interrupted', { timeoutMs: 20_000, what: 'the attempt to be recovered' });
  }, 60_000);

  it('the relay follows the same escalation: the first SIGTERM prints the drain line and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-shutdown-relay-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const relay = new RelayNode(join(dir, 'relay'));
    cleanups.push(() => relay.stop());
    await relay.start();
    const from = relay.proc!.output.length;
    relay.proc!.child.kill('SIGTERM');
    expect(await relay.proc!.exited).toEqual({ code: SHUTDOWN_EXIT_CODES.drained, signal: null });
    expect(relay.proc!.output.slice(from)).toMatch(/SIGTERM: draining: closing connector sessions, finishing the requests in flight; waiting up to 30s; press Ctrl-C again to cancel them/);
  }, 60_000);
});
