import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore, openDatabase, Store } from '../src/index.js';
import { leaveDeadSocket, tempDir } from './core-fixtures.js';
import { makeRepo, waitUntil } from '@sluice/test-kit';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

let root: string;
let home: string;

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: { ...process.env, SLUICE_HOME: home }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `sluice` without blocking this process (a server in the test must keep answering). */
function sluiceAsync(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env: { ...process.env, SLUICE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeEach(() => {
  root = tempDir('sluice-cli-');
  home = join(root, 'home');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('sluice CLI', () => {
  it('has --help on every command', () => {
    const top = sluice('--help');
    expect(top.code).toBe(0);
    for (const cmd of ['init', 'daemon', 'status', 'workspace', 'executors', 'runs', 'run', 'events', 'artifact', 'audit', 'db']) expect(top.stdout).toContain(cmd);
    for (const sub of [['daemon', 'start'], ['daemon', 'install-service'], ['daemon', 'uninstall-service'], ['workspace', 'add'], ['executors', 'check'], ['db', 'rebuild'], ['events']]) {
      const r = sluice(...sub, '--help');
      expect(r.code, sub.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage:');
    }
  });

  it('init creates a private home; workspace add takes only canonical git repository roots', () => {
    expect(sluice('init').code).toBe(0);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'daemon.token')).mode & 0o777).toBe(0o600);
    const repo = makeRepo(join(root, 'repo'));
    mkdirSync(join(root, 'plain'));
    symlinkSync(repo.path, join(root, 'link'));

    const notGit = sluice('workspace', 'add', join(root, 'plain'));
    expect(notGit.code).toBe(1);
    expect(notGit.stderr).toMatch(/BAD_REQUEST: Not a git repository/);
    expect(sluice('workspace', 'add', join(root, 'link')).stderr).toMatch(/symlink/);
    expect(sluice('workspace', 'add', `${root}/plain/../repo`).stderr).toMatch(/"\.\."/);
    expect(sluice('workspace', 'add', 'repo', '--id', '../x').code).toBe(1);

    const added = sluice('workspace', 'add', 'repo', '--id', 'web', '--json');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ workspaceId: 'web', path: repo.path });
    expect(sluice('workspace', 'add', repo.path, '--id', 'again').stderr).toMatch(/registered already/);
    const list = JSON.parse(sluice('workspace', 'list', '--json').stdout);
    // No executor unless the operator names one: nothing a planner can run is added behind their back.
    expect(list.workspaces).toEqual([expect.objectContaining({ workspaceId: 'web', path: repo.path, executors: [], validations: [] })]);
    expect(sluice('workspace', 'remove', 'web').code).toBe(0);
    expect(JSON.parse(sluice('workspace', 'list', '--json').stdout).workspaces).toEqual([]);
  });

  it('workspace add adds only the executors named with --executor name=adapter', () => {
    const repo = makeRepo(join(root, 'repo'));
    const bad = sluice('workspace', 'add', repo.path, '--executor', 'x=command');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/needs an argv/);
    expect(sluice('workspace', 'add', repo.path, '--executor', 'nonsense').code).not.toBe(0);
    expect(sluice('workspace', 'add', repo.path, '--id', 'web', '--executor', 'sim=simulation', '--executor', 'claude=claude-code', '--executor', 'cx=codex').code).toBe(0);
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'));
    // codex enforces only "any" command (its workspace-write sandbox): written out, never implied.
    expect(config.workspaces.web.executors).toEqual({ sim: { adapter: 'simulation' }, claude: { adapter: 'claude-code' }, cx: { adapter: 'codex', policy: { commands: 'any' } } });
  });

  it('workspace add and remove without a running daemon leave audit rows in the ledger', () => {
    expect(sluice('init').code).toBe(0);
    const repo = makeRepo(join(root, 'repo'));
    expect(sluice('workspace', 'add', 'repo', '--id', 'web').code).toBe(0);
    expect(sluice('workspace', 'add', repo.path, '--id', 'again').code).toBe(1);
    expect(sluice('workspace', 'remove', 'web').code).toBe(0);
    const db = new Database(join(home, 'state.db'), { readonly: true });
    const rows = db.prepare("SELECT actor, action, target, outcome, details FROM audit WHERE action LIKE 'workspace.%' ORDER BY seq").all() as { actor: string; details: string }[];
    db.close();
    expect(rows).toEqual([
      expect.objectContaining({ action: 'workspace.add', target: 'web', outcome: 'ok' }),
      expect.objectContaining({ action: 'workspace.add', target: 'again', outcome: 'BAD_REQUEST' }),
      expect.objectContaining({ action: 'workspace.remove', target: 'web', outcome: 'ok' }),
    ]);
    expect(rows.every((r) => r.actor.startsWith('local:'))).toBe(true);
    expect(JSON.parse(rows[0]!.details)).toEqual({ path: repo.path, executors: {} });
  });

  it('daemon start refuses a non-loopback host', () => {
    const r = sluice('daemon', 'start', '--host', '0.0.0.0', '--port', '0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to listen on 0\.0\.0\.0.*127\.0\.0\.1 only/);
  });

  it('daemon start listens on port 0, writes daemon.json, answers status and stops cleanly on SIGTERM', async () => {
    sluice('init');
    const child = spawn(process.execPath, [BIN, 'daemon', 'start', '--port', '0', '--log-level', 'info'], { cwd: root, env: { ...process.env, SLUICE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil(() => logs.includes('sluice daemon listening'), { what: 'the daemon to log that it listens' });
    const info = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8'));
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = spawn(process.execPath, [BIN, 'status', '--json'], { env: { ...process.env, SLUICE_HOME: home } });
    let out = '';
    status.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => status.on('exit', r));
    expect(JSON.parse(out)).toMatchObject({ running: true, pid: child.pid });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    expect(logs).toContain('stopped');
    expect(logs).not.toContain(readFileSync(join(home, 'daemon.token'), 'utf8').trim());
    expect(sluice('status').code).toBe(3);
  });

  it('never sends the daemon token to a stranger holding the port a stale daemon.json names', async () => {
    sluice('init');
    const seen: IncomingHttpHeaders[] = [];
    const stranger = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.0.0","pid":1,"startedAt":"x","workspaces":[],"runs":{},"events":0,"auditRows":0}'));
    });
    await new Promise<void>((r) => stranger.listen(0, '127.0.0.1', r));
    try {
      const { port } = stranger.address() as AddressInfo;
      // What a daemon killed with -9 leaves behind: daemon.json naming its old port, and a dead socket.
      writeFileSync(join(home, 'daemon.json'), JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: 999_999, startedAt: new Date().toISOString() }), { mode: 0o600 });
      leaveDeadSocket(join(home, 'daemon.sock'));
      expect(existsSync(join(home, 'daemon.sock'))).toBe(true);

      const status = await sluiceAsync('status', '--json');
      expect(status.code).toBe(3);
      expect(JSON.parse(status.stdout)).toEqual({ running: false });
      const open = await sluiceAsync('run', 'open', 'web', '--title', 'x');
      expect(open.code).not.toBe(0);
      expect(open.stderr).toMatch(/DAEMON_UNAVAILABLE/);
      expect(seen).toEqual([]);
    } finally {
      stranger.closeAllConnections();
      await new Promise((r) => stranger.close(r));
    }
  });

  it('reads the ledger: runs, run show, events, artifact cat, audit verify and db rebuild --check', async () => {
    sluice('init');
    const store = new Store(openDatabase(join(home, 'state.db')));
    const run = store.openRun({ workspaceId: 'web', title: 'from the test', baseRef: 'main', baseCommit: 'a'.repeat(40), branch: 'sluice/run/x', actor: 'planner:org_1/tok_1' });
    store.dispatchStep({ runId: run.runId, executor: 'sim', task: 't', validations: [], approvalRequired: false, timeoutMs: 60_000, attemptsRequested: 1, idempotencyKey: null, requestHash: 'unused', actor: 'planner:org_1/tok_1' });
    for (let i = 0; i < 3; i++) store.audit({ actor: 'local:tester', action: 'test', outcome: 'ok' });
    const blob = await new ArtifactStore(join(home, 'artifacts')).putBuffer('artifact body\n');
    store.close();

    expect(JSON.parse(sluice('runs', '--json').stdout).runs).toEqual([expect.objectContaining({ runId: run.runId, createdBy: 'planner:org_1/tok_1' })]);
    expect(sluice('run', 'show', run.runId).stdout).toContain('step 1');
    expect(sluice('run', 'show', 'run_01ARZ3NDEKTSV4RRFFQ69G5FAV').stderr).toMatch(/RUN_NOT_FOUND/);
    const events = sluice('events', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toEqual(['run.opened', 'step.queued', 'attempt.created']);
    expect(sluice('artifact', 'cat', blob.digest).stdout).toBe('artifact body\n');
    expect(sluice('audit', 'verify').stdout).toMatch(/audit chain ok \(3 rows\)/);
    expect(sluice('db', 'rebuild', '--check')).toMatchObject({ code: 0, stdout: expect.stringContaining('agree') });

    const raw = new Database(join(home, 'state.db'));
    raw.exec("DROP TRIGGER audit_no_update; UPDATE audit SET outcome = 'denied' WHERE seq = 2; UPDATE runs SET title = 'rewritten'");
    raw.close();
    writeFileSync(new ArtifactStore(join(home, 'artifacts')).pathOf(blob.digest), 'artifact b0dy\n');

    const verify = sluice('audit', 'verify', '--json');
    expect(verify.code).toBe(2);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: false, problems: [{ seq: 2, problem: 'hash_mismatch' }] });
    const check = sluice('db', 'rebuild', '--check');
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`runs ${run.runId}: differs (title)`);
    const cat = sluice('artifact', 'cat', blob.digest);
    expect(cat.code).toBe(1);
    expect(cat.stdout).toBe('');
    expect(cat.stderr).toMatch(/corrupt/);
  });

  it('events --follow prints new events as they are written and stops on SIGTERM', async () => {
    sluice('init');
    const store = new Store(openDatabase(join(home, 'state.db')));
    const run = store.openRun({ workspaceId: 'web', title: 't', baseRef: 'main', baseCommit: 'a'.repeat(40), branch: 'sluice/run/x', actor: 'local:tester' });
    const child = spawn(process.execPath, [BIN, 'events', '--follow', '--json', '--run', run.runId], { env: { ...process.env, SLUICE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil(() => out.includes('run.opened'), { what: 'events --follow to print run.opened' });
    store.appendEvent({ type: 'attempt.log', runId: run.runId, data: { lines: [{ stream: 'stdout', text: 'written later' }] } }, 'system:engine');
    await waitUntil(() => out.includes('written later'), { what: 'events --follow to print the later event' });
    store.close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['run.opened', 'attempt.log']);
  });
});
