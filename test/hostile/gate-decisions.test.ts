// Gate decisions with hostile ids: another run's attempt, an unknown attempt, no choice among several, a decided
// gate, a workspace that only takes local decisions. Only the one legitimate approval may move a run branch.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '@sluice/daemon';
import type { RunningDaemon } from '@sluice/daemon';
import { daemonVerbPath } from '@sluice/shared-protocol';
import type { Gate, StepDetail } from '@sluice/shared-protocol';
import { FAKE } from './cases.js';
import { expectRefusal, recordCount } from './expect.js';

let root: string;
let repo: string;
let d: RunningDaemon;
let token: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sluice-hostile-gates-'));
  const mk = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    execFileSync('git', ['init', '-q', '-b', 'main', dir]);
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    execFileSync('git', ['-C', dir, 'add', '-A']);
    execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'init']);
    return dir;
  };
  repo = mk('repo');
  const localOnly = mk('local-only');
  const home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  const ws = (path: string, remote: boolean) => ({ path, name: 'w', executors: { sim: { adapter: 'simulation' } }, validations: {}, approval: { policy: 'always', remote } });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, concurrency: 4, workspaces: { web: ws(repo, true), local: ws(localOnly, false) } }));
  d = await startDaemon({ home, port: 0, logger: pino({ level: 'silent' }) });
  token = readFileSync(join(home, 'daemon.token'), 'utf8').trim();
}, 30_000);

afterAll(async () => {
  await d?.close();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

/** A call as the connector makes it for a remote planner. */
async function remote(verb: string, body: unknown): Promise<{ statusCode: number; body: string }> {
  const res = await fetch(`${d.url}${daemonVerbPath(verb)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-sluice-shared-workspaces': 'web,local', 'x-sluice-actor': 'planner:org_x/tok_y' },
    body: JSON.stringify(body),
  });
  return { statusCode: res.status, body: await res.text() };
}
async function ok<T>(verb: string, body: unknown): Promise<T> {
  const r = await remote(verb, body);
  expect(r.statusCode, `${verb}: ${r.body}`).toBe(200);
  return JSON.parse(r.body) as T;
}

async function awaitingStep(workspaceId: string, attempts: number, text: string) {
  const run = await ok<{ runId: string; baseCommit: string }>('runs.open', { workspaceId });
  const step = await ok<{ stepId: string }>('steps.dispatch', { runId: run.runId, executor: 'sim', task: `write x.txt\n<<<\n${text}\n>>>`, attempts });
  const waited = await ok<StepDetail & { settled: boolean }>('steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
  expect(waited.state).toBe('awaiting_approval');
  const gate = waited.gates.find((g: Gate) => g.kind === 'approval' && g.status === 'pending')!;
  return { run, step: waited, gate };
}

describe('gate decisions with hostile ids', () => {
  it('only the one legitimate approval moves a branch', async () => {
    const a = await awaitingStep('web', 2, 'from A');
    const b = await awaitingStep('web', 1, 'from B');
    const l = await awaitingStep('local', 1, 'local');
    const cases: Array<[string, string, unknown, number, string]> = [
      ["approve naming another run's attempt", 'gates.approve', { gateId: a.gate.gateId, attemptId: b.step.attempts[0]!.attemptId }, 409, 'ATTEMPT_NOT_ACCEPTABLE'],
      ['approve naming an unknown attempt', 'gates.approve', { gateId: a.gate.gateId, attemptId: FAKE.attemptId }, 409, 'ATTEMPT_NOT_ACCEPTABLE'],
      ['approve without a choice among two', 'gates.approve', { gateId: a.gate.gateId }, 400, 'ATTEMPT_CHOICE_REQUIRED'],
      ['approve an unknown gate', 'gates.approve', { gateId: FAKE.gateId }, 404, 'GATE_NOT_FOUND'],
      ['approve on a local-only workspace', 'gates.approve', { gateId: l.gate.gateId }, 403, 'REMOTE_APPROVAL_DISABLED'],
      ['reject on a local-only workspace', 'gates.reject', { gateId: l.gate.gateId, reason: 'no' }, 403, 'REMOTE_APPROVAL_DISABLED'],
    ];
    for (const [label, verb, body, status, code] of cases) expectRefusal(await remote(verb, body), label, { status, code });
    for (const r of [a.run, b.run, l.run]) expect((await ok<{ headCommit: string }>('runs.get', { runId: r.runId })).headCommit).toBe(r.baseCommit);
    // The legitimate approval, then replays of it.
    const chosen = a.step.attempts[1]!;
    await ok('gates.approve', { gateId: a.gate.gateId, attemptId: chosen.attemptId });
    const replays: Array<[string, string, unknown, number, string]> = [
      ['approve again', 'gates.approve', { gateId: a.gate.gateId, attemptId: a.step.attempts[0]!.attemptId }, 409, 'GATE_ALREADY_DECIDED'],
      ['reject after approval', 'gates.reject', { gateId: a.gate.gateId, reason: 'changed my mind' }, 409, 'GATE_ALREADY_DECIDED'],
    ];
    for (const [label, verb, body, status, code] of replays) expectRefusal(await remote(verb, body), label, { status, code });
    expect((await ok<{ headCommit: string }>('runs.get', { runId: a.run.runId })).headCommit).toBe(chosen.commit);
    for (const r of [b.run, l.run]) expect((await ok<{ headCommit: string }>('runs.get', { runId: r.runId })).headCommit).toBe(r.baseCommit);
    const branch = execFileSync('git', ['-C', repo, 'rev-parse', `refs/heads/sluice/run/${a.run.runId}`], { encoding: 'utf8' }).trim();
    expect(branch).toBe(chosen.commit);
    recordCount('escape.gates', cases.length + replays.length);
  }, 60_000);
});
