// A planner with runs:write on a workspace whose operator allowed the simulation executor next to a validation
// that runs worktree code: the planner writes the program the validation runs. Until the sandbox confines it, that
// program runs as the operator; what it must not find on any relative path from its cwd, nor through its
// environment, is the daemon's home (token, config, ledger). Its HOME is an empty scratch folder of the attempt.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken, startDaemon } from '@sluice/daemon';
import type { RunningDaemon } from '@sluice/daemon';
import { daemonVerbPath } from '@sluice/shared-protocol';
import { waitUntil } from '../helpers/index.mjs';
import { makeRepo } from '@sluice/test-kit';

let root: string;
let home: string;
let d: RunningDaemon;
let token: string;

/** What the planted program reports: every file it reached by `../` from its cwd, its env and its HOME. */
const PROBE = String.raw`
const fs = require('fs');
const path = require('path');
const found = [];
const names = ['daemon.token', 'config.json', 'state.db', 'daemon.json', 'connector.json'];
for (const start of [process.cwd(), path.dirname(process.env.SLUICE_TASK_FILE || '/')]) {
  let rel = '.';
  for (let i = 0; i < 12; i++) {
    rel = path.join(rel, '..');
    for (const n of names) {
      const p = path.join(start, rel, n);
      try { found.push({ p, text: fs.readFileSync(p, 'utf8').slice(0, 200) }); } catch {}
    }
  }
}
const home = process.env.HOME;
console.log(JSON.stringify({ found, env: process.env, cwd: process.cwd(), home, homeEntries: fs.readdirSync(home) }));
`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sluice-hostile-home-'));
  home = join(root, 'home');
  mkdirSync(home, { mode: 0o700 });
  const workspace = {
    path: makeRepo(join(root, 'repo')).path,
    name: 'web',
    executors: {
      sim: { adapter: 'simulation' },
      probe: { adapter: 'command', argv: [process.execPath, '-e', PROBE] },
      logged: { adapter: 'command', argv: [process.execPath, '-e', 'console.log(JSON.stringify({ home: process.env.HOME }))'], policy: { home: { passThrough: true } } },
    },
    validations: { test: { argv: [process.execPath, 'probe.js'], timeout: '30s' } },
    allowSimulationWithValidations: true,
  };
  writeFileSync(join(home, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, cancelGrace: '300ms', workspaces: { web: workspace } }));
  d = await startDaemon({ home, runtimeDir: join(root, 'run'), port: 0, logger: pino({ level: 'silent' }) });
  token = readToken(d.home);
}, 30_000);

afterAll(() => d?.close().finally(() => rmSync(root, { recursive: true, force: true })), 30_000);

/** A verb as the connector forwards it for a remote planner with workspace `web` shared. */
async function call(verb: string, body: unknown): Promise<Record<string, unknown>> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-sluice-actor': 'planner:org_x/tok_y', 'x-sluice-shared-workspaces': 'web' };
  return (await (await fetch(`${d.url}${daemonVerbPath(verb)}`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
}

interface Probe {
  found: Array<{ p: string; text: string }>;
  env: Record<string, string>;
  cwd: string;
  home: string;
  homeEntries: string[];
}

/** Run one step and read back, as the planner can, the artifact the probe printed. */
async function probe(runId: string, executor: string, task: string, validations: string[], kind: string): Promise<{ text: string; parsed: Probe }> {
  const step = await call('steps.dispatch', { runId, executor, task, validations });
  const done = await call('steps.wait', { stepId: step.stepId, timeoutMs: 20_000 });
  expect(done.settled, JSON.stringify(done)).toBe(true);
  const attempt = (done.attempts as Array<{ attemptId: string }>)[0]!;
  const list = await call('artifacts.list', { runId, attemptId: attempt.attemptId });
  const ref = (list.artifacts as Array<{ kind: string; digest: string }>).find((a) => a.kind === kind);
  expect(ref, `${kind} artifact of ${JSON.stringify(list)}`).toBeDefined();
  const got = await call('artifacts.get', { runId, digest: ref!.digest });
  const text = got.encoding === 'base64' ? Buffer.from(got.content as string, 'base64').toString('utf8') : (got.content as string);
  return { text, parsed: JSON.parse(text) as Probe };
}

async function expectNoWayHome(r: { text: string; parsed: Probe }): Promise<void> {
  expect(r.parsed.found).toEqual([]);
  expect(r.text).not.toContain(token);
  expect(r.parsed.cwd.startsWith(`${home}/`)).toBe(false);
  for (const [name, value] of Object.entries(r.parsed.env)) expect(value.includes(home), `${name}=${value}`).toBe(false);
  // HOME is the attempt's own scratch folder, empty when the child starts, and gone with the attempt.
  expect(r.parsed.home).not.toBe(homedir());
  expect(r.parsed.home.startsWith(`${join(root, 'run')}/`)).toBe(true);
  expect(r.parsed.homeEntries).toEqual([]);
  // Removed once the attempt's engine task ends, just after its outcome is recorded.
  await waitUntil(() => !existsSync(r.parsed.home), { what: 'the scratch HOME to be removed' });
}

describe('code a planner plants cannot reach the daemon home', () => {
  it('a validation running planted code finds no token, config or ledger by ../ from its cwd or task file; HOME is a scratch home', async () => {
    const run = await call('runs.open', { workspaceId: 'web', title: 'reach home' });
    const r = await probe(run.runId as string, 'sim', `write probe.js\n<<<\n${PROBE.trim()}\n>>>`, ['test'], 'validation-stdout');
    await expectNoWayHome(r);
    expect(r.parsed.env['SLUICE_VALIDATION']).toBe('test');
  }, 60_000);

  it('an executor gets the same: no way home, a scratch HOME', async () => {
    const run = await call('runs.open', { workspaceId: 'web', title: 'executor env' });
    const r = await probe(run.runId as string, 'probe', 'look around', [], 'stdout');
    await expectNoWayHome(r);
    expect(r.parsed.env['SLUICE_TASK_FILE']!.startsWith(`${join(root, 'run')}/`)).toBe(true);
  }, 60_000);

  it('an executor whose policy passes HOME through gets the operator\'s HOME', async () => {
    const run = await call('runs.open', { workspaceId: 'web', title: 'login' });
    expect((await probe(run.runId as string, 'logged', 'x', [], 'stdout')).parsed.home).toBe(process.env['HOME']);
  }, 60_000);
});
