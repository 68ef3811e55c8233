// A planner's task text drives the simulation executor (where the operator configured one). Whatever the
// task says, and whatever symlinks the repository holds, it must not write or delete anything outside the attempt's
// worktree, nor inside `.git`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '@sluice/daemon';
import type { RunningDaemon } from '@sluice/daemon';
import { daemonVerbPath } from '@sluice/shared-protocol';
import { recordCount } from './expect.js';
import { git } from '@sluice/test-kit';
import { listTree } from './in-process-stack.js';

let root: string;
let outside: string;
let victim: string;
let d: RunningDaemon;
let token: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sluice-hostile-escape-'));
  outside = join(root, 'outside');
  mkdirSync(outside);
  victim = join(outside, 'victim.txt');
  writeFileSync(victim, 'original\n');
  const repo = join(root, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), 'hi\n');
  // A malicious (or careless) repository: links that point out of it.
  symlinkSync(victim, join(repo, 'notes.txt'));
  symlinkSync(outside, join(repo, 'docs'));
  symlinkSync('../outside/victim.txt', join(repo, 'relative-link.txt'));
  git(repo, 'add', '-A');
  git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'links');
  const home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(
    join(home, 'config.json'),
    JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, cancelGrace: '300ms', concurrency: 4, workspaces: { web: { path: repo, name: 'web', executors: { sim: { adapter: 'simulation' } }, validations: {} } } }),
  );
  d = await startDaemon({ home, port: 0, logger: pino({ level: 'silent' }) });
  token = readFileSync(join(home, 'daemon.token'), 'utf8').trim();
}, 30_000);

afterAll(async () => {
  await d?.close();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

async function call(verb: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${d.url}${daemonVerbPath(verb)}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-sluice-actor': 'planner:org_x/tok_y', 'x-sluice-shared-workspaces': 'web' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

const block = (text: string) => `<<<\n${text}\n>>>`;

describe('simulation executor: task text cannot reach outside the worktree', () => {
  it('writes through symlinks, traversal, absolute paths and .git are refused; nothing outside changes', async () => {
    const cases: Array<[string, string]> = [
      ['write through a file symlink', `write notes.txt\n${block('pwned')}`],
      ['append through a file symlink', `append notes.txt\n${block('pwned')}`],
      ['base64 through a file symlink', `write-base64 notes.txt\n${block(Buffer.from('pwned').toString('base64'))}`],
      ['write through a relative symlink', `write relative-link.txt\n${block('pwned')}`],
      ['write under a directory symlink', `write docs/new.txt\n${block('pwned')}`],
      ['traversal', `write ../outside/new.txt\n${block('pwned')}`],
      ['absolute path', `write ${join(outside, 'abs.txt')}\n${block('pwned')}`],
      ['into .git', `write .git/hooks/post-checkout\n${block('#!/bin/sh\necho pwned')}`],
      ['delete under a directory symlink', 'delete docs/victim.txt'],
      ['delete by traversal', 'delete ../outside/victim.txt'],
    ];
    const before = listTree(outside);
    const steps: Array<[string, string]> = [];
    for (const [label, task] of cases) {
      const run = await call('runs.open', { workspaceId: 'web', title: label });
      const step = await call('steps.dispatch', { runId: run.runId, executor: 'sim', task });
      expect(step.stepId, `${label}: ${JSON.stringify(step)}`).toBeDefined();
      steps.push([label, step.stepId as string]);
    }
    for (const [label, stepId] of steps) {
      const done = await call('steps.wait', { stepId, timeoutMs: 20_000 });
      expect(done.settled, label).toBe(true);
      expect(done.state, label).toBe('failed');
    }
    expect(readFileSync(victim, 'utf8')).toBe('original\n');
    expect(listTree(outside)).toEqual(before);
    expect(existsSync(join(root, 'repo', '.git', 'hooks', 'post-checkout'))).toBe(false);
    recordCount('escape.simulation', cases.length);
  }, 60_000);
});
