import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { formatDuration, onShutdownSignals, SHUTDOWN_EXIT_CODES, type ShutdownPlan } from '@sluice/node-kit';

/** A program under the escalation: a signal source, the log, the exit code, and drain/cancel it controls. */
function program(over: Partial<ShutdownPlan> = {}) {
  const signals = new EventEmitter();
  const lines: string[] = [];
  const calls: string[] = [];
  let exited: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (exited = resolve));
  let finishDrain: () => void = () => undefined;
  let finishCancel: () => void = () => undefined;
  const remove = onShutdownSignals({
    running: () => '2 attempts running',
    drain: () => {
      calls.push('drain');
      return new Promise<void>((r) => (finishDrain = r));
    },
    drainTimeoutMs: 300_000,
    cancel: () => {
      calls.push('cancel');
      return new Promise<void>((r) => (finishCancel = r));
    },
    log: (l) => lines.push(l),
    exit: (code) => exited(code),
    signals: signals as unknown as NodeJS.Process,
    ...over,
  });
  return { signals, lines, calls, exit, remove, finishDrain: () => finishDrain(), finishCancel: () => finishCancel() };
}

describe('shutdown escalation', () => {
  it('the first signal drains and exits with the drained code once the work finished', async () => {
    const p = program();
    p.signals.emit('SIGTERM', 'SIGTERM');
    expect(p.lines).toEqual(['SIGTERM: draining: 2 attempts running; waiting up to 5m0s; press Ctrl-C again to cancel them']);
    p.finishDrain();
    expect(await p.exit).toBe(SHUTDOWN_EXIT_CODES.drained);
    expect(p.calls).toEqual(['drain']);
    p.remove();
  });

  it('the second signal cancels and exits with the cancelled code, even when the drain then ends too', async () => {
    const p = program();
    p.signals.emit('SIGINT', 'SIGINT');
    p.signals.emit('SIGINT', 'SIGINT');
    expect(p.lines[1]).toBe('second SIGINT: cancelling the running work; press Ctrl-C again to exit at once');
    p.finishDrain();
    p.finishCancel();
    expect(await p.exit).toBe(SHUTDOWN_EXIT_CODES.cancelled);
    expect(p.calls).toEqual(['drain', 'cancel']);
    p.remove();
  });

  it('the third signal exits at once with the forced code', async () => {
    const p = program();
    for (let i = 0; i < 3; i++) p.signals.emit('SIGTERM', 'SIGTERM');
    expect(await p.exit).toBe(SHUTDOWN_EXIT_CODES.forced);
    expect(p.lines[2]).toBe('SIGTERM again: exiting now');
    p.remove();
  });

  it('the drain timeout cancels the running work as a second signal would', async () => {
    const p = program({ drainTimeoutMs: 20 });
    p.signals.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    expect(p.calls).toEqual(['drain', 'cancel']);
    expect(p.lines[1]).toBe('the drain timeout (0.02s) passed: cancelling the running work; press Ctrl-C again to exit at once');
    p.finishCancel();
    expect(await p.exit).toBe(SHUTDOWN_EXIT_CODES.cancelled);
    p.remove();
  });

  it('with nothing running the first signal says so; a program with its own exit code keeps it; a failed stop exits failed', async () => {
    const idle = program({ running: () => null, drain: async () => 14 });
    idle.signals.emit('SIGTERM', 'SIGTERM');
    expect(await idle.exit).toBe(14);
    expect(idle.lines).toEqual(['SIGTERM: stopping; nothing is running', 'stopped']);
    idle.remove();
    const broken = program({ drain: () => Promise.reject(new Error('disk gone')) });
    broken.signals.emit('SIGTERM', 'SIGTERM');
    expect(await broken.exit).toBe(SHUTDOWN_EXIT_CODES.failed);
    expect(broken.lines.at(-1)).toBe('stopping failed: disk gone');
    broken.remove();
  });

  it('formats durations as operators know them from other agents', () => {
    expect([formatDuration(600_000), formatDuration(300_000), formatDuration(90_500), formatDuration(5000), formatDuration(7_200_000)]).toEqual(['10m0s', '5m0s', '1m30.5s', '5s', '2h0m0s']);
  });
});
