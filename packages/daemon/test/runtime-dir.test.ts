import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRuntimeBase, ensureRuntime, runtimePaths } from '../src/home/runtime-dir.js';
import { EngineHarness, writeTask } from './helpers-exec/engine-harness.js';

let root: string;
let home: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-runtime-'));
  home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the runtime folder (worktrees, task files, scratch homes)', () => {
  it('is created mode 700 below the base, one folder per home, outside the home', () => {
    const rt = ensureRuntime(join(root, 'run'), home);
    expect(rt).toEqual(runtimePaths(join(root, 'run'), home));
    for (const dir of [join(root, 'run'), rt.root, rt.worktrees, rt.attempts]) expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(rt.root.startsWith(`${home}/`)).toBe(false);
    expect(runtimePaths(join(root, 'run'), join(root, 'other-home')).root).not.toBe(rt.root);
    expect(defaultRuntimeBase()).toMatch(/\/sluice-\d+$/);
    expect(ensureRuntime(join(root, 'run'), home)).toEqual(rt);
  });

  it('refuses a base inside the home or holding it, a folder with a loose mode and a symlink', () => {
    expect(() => ensureRuntime(join(home, 'run'), home)).toThrow(/must not contain each other/);
    expect(() => ensureRuntime(root, home)).toThrow(/must not contain each other/);
    const loose = join(root, 'loose');
    mkdirSync(loose, { mode: 0o700 });
    chmodSync(loose, 0o777);
    expect(() => ensureRuntime(loose, home)).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR', message: expect.stringMatching(/has mode 777, not 700/) }));
    const inner = join(root, 'inner');
    ensureRuntime(inner, home);
    chmodSync(runtimePaths(inner, home).attempts, 0o755);
    expect(() => ensureRuntime(inner, home)).toThrow(/has mode 755/);
    mkdirSync(join(root, 'real'), { mode: 0o700 });
    symlinkSync(join(root, 'real'), join(root, 'link'));
    expect(() => ensureRuntime(join(root, 'link'), home)).toThrow(/symlink/);
  });

  it('a workspace worktreeRoot inside SLUICE_HOME is refused when the attempt starts', async () => {
    const h = new EngineHarness();
    try {
      const c = h.config.current;
      h.config.replace({ ...c, workspaces: { demo: { ...c.workspaces['demo']!, worktreeRoot: join(h.home, 'worktrees') } } });
      await h.start();
      const run = await h.call('runs.open', { workspaceId: 'demo' });
      const s = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('a.txt', 'a\n') });
      const d = await h.settle(s.stepId);
      expect(d.attempts[0]!.failureCode).toBe('WORKTREE_FAILED');
      expect(d.attempts[0]!.summary).toMatch(/SLUICE_HOME/);
    } finally {
      await h.cleanup();
    }
  });
});
