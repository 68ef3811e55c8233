// The daemon dies between moving the run branch (git compare-and-swap) and recording the new head in the ledger.
// That window is a few milliseconds wide, so the test opens it on purpose: it kills the daemon, then moves the ref
// exactly as the compare-and-swap would have, and restarts. The run must not be wedged afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Attempt } from '@sluice/shared-protocol';
import { DaemonNode, FIX_TASK, git, makeBuggyRepo, waitUntil } from '../helpers/index.mjs';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function daemonWith(approval: { policy: 'none' | 'always'; remote: boolean }, validation?: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fault-window-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const repo = await makeBuggyRepo(join(dir, 'repo'));
  const daemon = new DaemonNode(join(dir, 'home'));
  cleanups.push(() => daemon.stop());
  await daemon.init();
  await daemon.addWorkspace(repo.path, 'web', { approval });
  if (validation) daemon.editConfig((cfg) => (cfg.workspaces['web']!.validations['test'] = { argv: validation, timeout: '30s' }));
  await daemon.start();
  return { daemon, repo };
}

const runRef = (runId: string) => `refs/heads/sluice/run/${runId}`;

describe('crash between the branch move and its record', () => {
  it('approval path: the gate can still be approved after the restart, and the ledger head follows the branch', async () => {
    const { daemon, repo } = await daemonWith({ policy: 'always', remote: true });
    const run = await daemon.verb('runs.open', { workspaceId: 'web' });
    const step = await daemon.verb('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'] });
    const waiting = await daemon.verb('steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
    expect(waiting.state).toBe('awaiting_approval');
    const attempt = waiting.attempts[0]!;
    expect(attempt.commit).toBeTruthy();
    await daemon.crash();
    // What the compare-and-swap of the approval did just before the daemon died.
    await git(repo.path, ['update-ref', runRef(run.runId), attempt.commit!, run.baseCommit]);
    await daemon.start();
    const gate = (await daemon.verb('gates.list', { runId: run.runId, status: 'pending' })).gates.find((g) => g.kind === 'approval')!;
    const decided = await daemon.verb('gates.approve', { gateId: gate.gateId });
    expect(decided.status).toBe('approved');
    const after = await daemon.verb('runs.get', { runId: run.runId });
    expect(after.headCommit).toBe(attempt.commit);
    expect(await git(repo.path, ['rev-parse', runRef(run.runId)])).toBe(attempt.commit);
  }, 60_000);

  it('auto-accept path: recovery records the attempt the branch already points at, and the next step is accepted', async () => {
    // A validation slow enough to kill the daemon while the attempt is validating (its commit exists by then).
    const { daemon, repo } = await daemonWith({ policy: 'none', remote: true }, ['node', '-e', 'setTimeout(() => {}, 2500)']);
    const run = await daemon.verb('runs.open', { workspaceId: 'web' });
    const step = await daemon.verb('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'] });
    const validating: Attempt = await waitUntil(
      async () => {
        const a = (await daemon.verb('steps.get', { stepId: step.stepId })).attempts[0];
        return a?.state === 'validating' && a.commit ? a : undefined;
      },
      { timeoutMs: 20_000, what: 'the attempt to be validating' },
    );
    await daemon.crash();
    // The validation passed and the branch was fast-forwarded; the daemon died before writing it down.
    await git(repo.path, ['update-ref', runRef(run.runId), validating.commit!, run.baseCommit]);
    await daemon.start();
    const settled = await daemon.verb('steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
    expect(settled.settled).toBe(true);
    const head = (await daemon.verb('runs.get', { runId: run.runId })).headCommit;
    expect(head, 'the ledger head follows the branch the daemon moved').toBe(await git(repo.path, ['rev-parse', runRef(run.runId)]));
    // The run is not wedged: a next step (validation now instant) is accepted onto the branch.
    daemon.editConfig((cfg) => (cfg.workspaces['web']!.validations['test'] = { argv: ['node', '-e', '0'], timeout: '30s' }));
    await daemon.stop();
    await daemon.start();
    const next = await daemon.verb('steps.dispatch', { runId: run.runId, executor: 'simulation', task: 'write NOTES.md\n<<<\nnext\n>>>', validations: ['test'] });
    const done = await daemon.verb('steps.wait', { stepId: next.stepId, timeoutMs: 20_000 });
    expect(done.state, JSON.stringify(done.attempts.map((a) => [a.state, a.failureCode, a.summary]))).toBe('succeeded');
    const finalHead = (await daemon.verb('runs.get', { runId: run.runId })).headCommit;
    expect(await git(repo.path, ['rev-parse', runRef(run.runId)])).toBe(finalHead);
    expect(finalHead).not.toBe(head);
  }, 90_000);
});
