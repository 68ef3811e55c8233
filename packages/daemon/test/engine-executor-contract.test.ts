// The executor's compatibility contract and its denials, through the real engine (SQLite ledger, git worktrees)
// with fake CLIs that print what the real ones print.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakePath, installFakeClis } from '@sluice/test-kit';
import { checkProjections } from '../src/store/index.js';
import { EngineHarness } from './helpers-exec/engine-harness.js';

let h: EngineHarness | undefined;
let bin: string | undefined;
afterEach(async () => {
  await h?.cleanup();
  if (bin) rmSync(bin, { recursive: true, force: true });
  h = undefined;
  bin = undefined;
});

/** An engine whose executors are the fake CLIs, with `source` as the daemon's environment. */
async function engineWith(executors: Record<string, unknown>, source: Record<string, string>): Promise<EngineHarness> {
  bin = mkdtempSync(join(tmpdir(), 'sluice-fake-bin-'));
  installFakeClis(bin);
  h = await new EngineHarness({ workspace: { executors, validations: {}, allowSimulationWithValidations: false } }).start({ env: { PATH: fakePath(bin), ...source } });
  return h;
}

async function dispatchOne(engine: EngineHarness, executor: string) {
  const run = await engine.call('runs.open', { workspaceId: 'demo', title: executor });
  const step = await engine.call('steps.dispatch', { runId: run.runId, executor, task: 'fix add()' });
  await engine.settle(step.stepId);
  const attemptId = step.attempts[0]!.attemptId;
  const sluiceLines = engine.store
    .listEvents({ runId: run.runId, limit: 10_000 })
    .filter((e) => e.type === 'attempt.log' && e.attemptId === attemptId)
    .flatMap((e) => (e.data as { lines: { stream: string; text: string }[] }).lines.filter((l) => l.stream === 'sluice').map((l) => l.text));
  return { runId: run.runId, attempt: engine.store.getAttempt(attemptId)!, sluiceLines };
}

describe('the compatibility contract and denials through the engine', () => {
  it('a CLI whose --help lacks a needed flag fails the attempt EXECUTOR_INCOMPATIBLE naming the flag; nothing ran', async () => {
    const engine = await engineWith({ gemini: { adapter: 'gemini', env: ['FAKE_HELP_DROP', 'FAKE_RECORD'] } }, { FAKE_HELP_DROP: '--skip-trust', FAKE_RECORD: join(tmpdir(), `never-${process.pid}.json`) });
    const { attempt } = await dispatchOne(engine, 'gemini');
    expect(attempt.state).toBe('failed');
    expect(attempt.failureCode).toBe('EXECUTOR_INCOMPATIBLE');
    expect(attempt.summary).toContain('lacks --skip-trust');
    expect(attempt.commit).toBeNull();
  });

  it('a version newer than the tested range runs, with the warning in the attempt log', async () => {
    const engine = await engineWith({ claude: { adapter: 'claude-code', env: ['FAKE_VERSION'] } }, { FAKE_VERSION: '2.3.0 (Claude Code)' });
    const { attempt, sluiceLines } = await dispatchOne(engine, 'claude');
    expect(attempt.state, `${attempt.failureCode}: ${attempt.summary}`).toBe('succeeded');
    expect(sluiceLines).toEqual([expect.stringMatching(/^warning: claude 2\.3\.0 is outside the versions the claude-code adapter is tested with \(>=2\.1\.197 <2\.2\.0\)/)]);
  });

  it('denied actions are counted on the attempt, shown by runs.get, and fail it EXECUTOR_DENIED', async () => {
    const engine = await engineWith({ claude: { adapter: 'claude-code', env: ['FAKE_DENY'] }, plain: { adapter: 'claude-code' } }, { FAKE_DENY: 'node mark.js denied,rm -rf build' });
    const { runId, attempt, sluiceLines } = await dispatchOne(engine, 'claude');
    expect(attempt.failureCode).toBe('EXECUTOR_DENIED');
    expect(attempt.deniedActions).toBe(2);
    expect(sluiceLines).toEqual(['denied: Bash: node mark.js denied', 'denied: Bash: rm -rf build']);
    const got = await engine.call('runs.get', { runId });
    expect(got.steps[0]!.attempts[0]!.deniedActions).toBe(2);
    const clean = await dispatchOne(engine, 'plain');
    expect(clean.attempt.state).toBe('succeeded');
    expect(clean.attempt.deniedActions).toBe(0);
    // The count is set with the attempt's ending transition, so the ledger replays to the same row.
    expect(checkProjections(engine.store.db)).toEqual([]);
  });
});
