import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../src/service/retention.js';
import { DaemonProcess } from './helpers-exec/daemon-process.js';
import { EngineHarness, writeTask } from './helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

let h: EngineHarness | null = null;
let d: DaemonProcess | null = null;
afterEach(async () => {
  await h?.cleanup();
  await d?.cleanup();
  h = null;
  d = null;
});

async function oneStep(harness: EngineHarness, runId: string, file: string) {
  const s = await harness.call('steps.dispatch', { runId, executor: 'sim', task: writeTask(file, `${file} content`) });
  return (await harness.settle(s.stepId)).attempts[0]!;
}

function auditActions(harness: EngineHarness, action: string) {
  return (harness.store.db.prepare('SELECT target, details FROM audit WHERE action = ? ORDER BY seq').all(action) as { target: string | null; details: string }[]).map((r) => ({
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
}

describe('retention (sluice gc)', () => {
  it('prunes what only old attempts refer to, with an audit row each; reads say ARTIFACT_PRUNED; newer attempts keep theirs', async () => {
    h = await new EngineHarness({ workspace: { keepWorktrees: true } }).start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const old = await oneStep(h, run.runId, 'old.txt');
    await new Promise((r) => setTimeout(r, 5));
    const recent = await oneStep(h, run.runId, 'new.txt');
    const deps = { store: h.store, artifacts: h.artifacts, config: h.config.current, worktreesDir: h.runtime.worktrees, attemptsDir: h.runtime.attempts };
    // The cutoff is the recent attempt's end: the old one is past the retention, the recent one is not.
    const at = { now: new Date(recent.endedAt!), olderThanMs: 0, actor: 'local:tester' };
    const oldDiff = h.store.getAttemptDetail(old.attemptId)!.artifacts.find((r) => r.kind === 'diff')!;
    const recentDigests = new Set(h.store.getAttemptDetail(recent.attemptId)!.artifacts.map((r) => r.digest));
    const oldOnly = h.store.getAttemptDetail(old.attemptId)!.artifacts.filter((r) => !recentDigests.has(r.digest));

    const dry = await collectGarbage(deps, { ...at, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, artifacts: { blobs: new Set(oldOnly.map((r) => r.digest)).size }, worktrees: 1, branches: 1, scratch: 1 });
    expect(h.artifacts.has(oldDiff.digest)).toBe(true);
    expect(auditActions(h, 'artifact.pruned')).toEqual([]);

    const lines: string[] = [];
    const done = await collectGarbage(deps, { ...at, onProgress: (l) => lines.push(l) });
    expect({ ...done, dryRun: true }).toEqual(dry);
    expect(lines.at(-1)).toMatch(/^removed \d+ blob\(s\)/);
    await expect(h.call('artifacts.get', { runId: run.runId, digest: oldDiff.digest })).rejects.toMatchObject({ code: 'ARTIFACT_PRUNED' });
    const recentDiff = h.store.getAttemptDetail(recent.attemptId)!.artifacts.find((r) => r.kind === 'diff')!;
    expect((await h.call('artifacts.get', { runId: run.runId, digest: recentDiff.digest })).content).toContain('new.txt content');
    for (const digest of recentDigests) expect(h.artifacts.has(digest)).toBe(true);
    expect(auditActions(h, 'artifact.pruned').map((r) => r.target).sort()).toEqual([...new Set(oldOnly.map((r) => r.digest))].sort());
    expect(auditActions(h, 'gc').map((r) => r.details['dryRun'])).toEqual([true, false]);
    // The ledger keeps its refs; the kept worktree and the branch of the old attempt are gone, the recent ones stay.
    expect(h.store.getAttemptDetail(old.attemptId)!.artifacts.length).toBeGreaterThan(0);
    expect(git(h.repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/sluice/attempt/')).toBe(`refs/heads/${recent.branch}`);
    expect(git(h.repo, 'worktree', 'list', '--porcelain')).not.toContain(old.attemptId);
    expect(git(h.repo, 'worktree', 'list', '--porcelain')).toContain(recent.attemptId);
    expect(existsSync(join(h.runtime.attempts, old.attemptId))).toBe(false);
    expect(existsSync(join(h.runtime.attempts, recent.attemptId))).toBe(true);
    // The accepted work stays reachable through the run branch.
    expect(git(h.repo, 'show', `sluice/run/${run.runId}:old.txt`)).toBe('old.txt content');

    const again = await collectGarbage(deps, at);
    expect(again).toMatchObject({ artifacts: { blobs: 0 }, worktrees: 0, branches: 0, scratch: 0 });
  });

  it('the CLI: --help, --dry-run --json, progress on stderr, then ARTIFACT_PRUNED from artifact cat', async () => {
    h = await new EngineHarness().start();
    const run = await h.call('runs.open', { workspaceId: 'demo' });
    const a = await oneStep(h, run.runId, 'a.txt');
    const diff = h.store.getAttemptDetail(a.attemptId)!.artifacts.find((r) => r.kind === 'diff')!;
    await h.stop();
    writeFileSync(join(h.home, 'config.json'), JSON.stringify({ workspaces: { demo: { path: h.repo, name: 'demo', executors: { sim: { adapter: 'simulation' } } } } }));
    const sluice = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, SLUICE_HOME: h!.home }, encoding: 'utf8', timeout: 60_000 });

    const help = sluice('gc', '--help');
    expect(help.status).toBe(0);
    for (const text of ['--dry-run', '--json', '--older-than', 'default 30d']) expect(help.stdout).toContain(text);
    expect(sluice('gc', '--older-than', 'soon').stderr).toContain('BAD_REQUEST');
    // Nothing is 30 days old yet.
    expect(JSON.parse(sluice('gc', '--json').stdout)).toMatchObject({ artifacts: { blobs: 0 }, branches: 0 });

    const dry = sluice('gc', '--older-than', '0ms', '--dry-run', '--json');
    expect(dry.status).toBe(0);
    const report = JSON.parse(dry.stdout) as { dryRun: boolean; artifacts: { blobs: number }; branches: number };
    expect(report.dryRun).toBe(true);
    expect(report.artifacts.blobs).toBeGreaterThan(0);
    expect(report.branches).toBe(1);
    expect(sluice('artifact', 'cat', diff.digest).stdout).toContain('a.txt content');

    const real = sluice('gc', '--older-than', '0ms');
    expect(real.status).toBe(0);
    expect(real.stderr).toMatch(/gc: artifacts: \d+ blob/);
    expect(real.stdout).toMatch(new RegExp(`^removed ${report.artifacts.blobs} artifact blob\\(s\\)`));
    const cat = sluice('artifact', 'cat', diff.digest);
    expect(cat.status).toBe(1);
    expect(cat.stderr).toContain('ARTIFACT_PRUNED');
    expect(existsSync(join(h.home, 'artifacts', 'pruned', diff.digest.slice('sha256:'.length)))).toBe(true);
  });

  it('with a daemon running, sluice gc is done by the daemon and its API answers ARTIFACT_PRUNED', async () => {
    d = new DaemonProcess();
    await d.start();
    const run = await d.call<{ runId: string }>('runs.open', { workspaceId: 'demo' });
    const step = await d.call<{ stepId: string }>('steps.dispatch', { runId: run.runId, executor: 'sim', task: writeTask('b.txt', 'b') });
    let attempt: { state: string; attemptId: string } | undefined;
    for (;;) {
      const w = await d.call<{ settled: boolean; attempts: { state: string; attemptId: string }[] }>('steps.wait', { stepId: step.stepId, timeoutMs: 10_000 });
      if (w.settled) {
        attempt = w.attempts[0];
        break;
      }
    }
    const arts = await d.call<{ artifacts: { kind: string; digest: string }[] }>('artifacts.list', { runId: run.runId, attemptId: attempt!.attemptId });
    const diff = arts.artifacts.find((r) => r.kind === 'diff')!;
    // A remote (connector-forwarded) caller may not run gc.
    const remote = await fetch(`${d.url}/api/v1/gc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json', 'x-sluice-shared-workspaces': 'demo' },
      body: JSON.stringify({ olderThan: '0ms' }),
    });
    expect(remote.status).toBe(403);
    expect(((await remote.json()) as { code: string }).code).toBe('FORBIDDEN');
    expect((await d.call<{ content: string }>('artifacts.get', { runId: run.runId, digest: diff.digest })).content).toContain('b.txt');
    const r = d.sluice('gc', '--older-than', '0ms', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('done by the running daemon');
    expect((JSON.parse(r.stdout) as { artifacts: { blobs: number } }).artifacts.blobs).toBeGreaterThan(0);
    await expect(d.call('artifacts.get', { runId: run.runId, digest: diff.digest })).rejects.toMatchObject({ code: 'ARTIFACT_PRUNED' });
  });
});
