import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitEnv } from '../src/git/git-command.js';
import { runRef } from '../src/git/refs.js';
import { EngineHarness, writeTask } from './helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';

let h: EngineHarness | null = null;
afterEach(async () => {
  await h?.cleanup();
  h = null;
});

const HOOKS = ['reference-transaction', 'post-checkout', 'pre-commit', 'post-commit', 'post-index-change'];

/** Plant hooks in `.git/hooks` and in a `core.hooksPath` folder, plus an fsmonitor program: each leaves a marker. */
function plantHooks(repo: string, markers: string): void {
  mkdirSync(markers, { recursive: true });
  const custom = join(repo, '..', 'custom-hooks');
  mkdirSync(custom, { recursive: true });
  for (const dir of [join(repo, '.git', 'hooks'), custom]) {
    for (const name of HOOKS) {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\nenv > "${markers}/${name}-$$"\ncat >/dev/null 2>&1\nexit 0\n`);
      chmodSync(p, 0o755);
    }
  }
  const fsmonitor = join(custom, 'fsmonitor');
  writeFileSync(fsmonitor, `#!/bin/sh\ntouch "${markers}/fsmonitor-$$"\nexit 1\n`);
  chmodSync(fsmonitor, 0o755);
  git(repo, 'config', 'core.hooksPath', custom);
  git(repo, 'config', 'core.fsmonitor', fsmonitor);
}

describe('every git call of the daemon runs without repository hooks or programs', () => {
  it('git gets an allowlisted environment: no GIT_* variable of the daemon leaks into it', () => {
    const env = gitEnv({ PATH: '/usr/bin', GIT_DIR: '/elsewhere', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.hooksPath', GIT_CONFIG_VALUE_0: '/tmp/h', SSH_AUTH_SOCK: '/tmp/agent' });
    expect(Object.keys(env).filter((k) => !['PATH', 'LC_ALL'].includes(k) && !k.startsWith('GIT_AUTHOR_') && !k.startsWith('GIT_COMMITTER_')).sort()).toEqual(['GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM', 'GIT_TERMINAL_PROMPT']);
  });

  it('runs.open, a fast-forward and an accept through an approval gate leave no hook marker', async () => {
    h = await new EngineHarness().start();
    const markers = join(h.dir, 'markers');
    plantHooks(h.repo, markers);
    // The planted hooks do run for a plain git call: the test can see them.
    git(h.repo, 'update-ref', 'refs/heads/probe', 'HEAD');
    expect(readdirSync(markers).some((m) => m.startsWith('reference-transaction'))).toBe(true);
    git(h.repo, 'update-ref', '-d', 'refs/heads/probe');
    for (const m of readdirSync(markers)) rmSync(join(markers, m));

    const run = await h.call('runs.open', { workspaceId: 'demo', title: 'hooks' });
    const s1 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('a.txt', 'a\n') });
    const d1 = await h.settle(s1.stepId);
    expect(d1.state).toBe('succeeded');
    const s2 = await h.call('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('b.txt', 'b\n'), approval: true });
    const d2 = await h.settle(s2.stepId);
    expect(d2.state).toBe('awaiting_approval');
    await h.call('gates.approve', { gateId: d2.gates.find((g) => g.kind === 'approval')!.gateId });
    expect(git(h.repo, 'rev-parse', runRef(run.runId))).toBe(d2.attempts[0]!.commit);
    expect(readdirSync(markers)).toEqual([]);
  });
});

