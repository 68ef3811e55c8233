// The sandbox through the real engine: a fake agent (a script on PATH, run by the `command` adapter) tries to
// reach what the sandbox withholds, and each probe's outcome is committed by the agent itself in probes.json.
// Everything these tests connect to is on 127.0.0.1.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git, requireBubblewrap } from '@sluice/test-kit';
import { sandboxAvailability, sandboxWarnings } from '../src/sandbox/index.js';
import { DaemonProcess } from './helpers-exec/daemon-process.js';
import { findControllers } from '../src/sandbox/cgroup.js';
import { EngineHarness } from './helpers-exec/engine-harness.js';
import { eventually, isAlive, liveInGroup } from './helpers-exec/proc.js';

const skip = requireBubblewrap();

/** Starts a shell fork bomb again and again, whatever the kernel refuses, until it is killed. */
const BOMB_DRIVER = `const { spawn } = require('child_process');
const again = () => setTimeout(go, 20);
function go() {
  try {
    const c = spawn('/bin/sh', ['-c', 'b() { b | b & }; b; wait'], { stdio: 'ignore' });
    c.on('error', again);
    c.on('exit', again);
  } catch {
    again();
  }
}
go();
setInterval(() => {}, 1000);`;

/** Tries each probe of the task (JSON) and writes what happened to probes.json in the worktree. */
const FAKE_AGENT = String.raw`#!${process.execPath}
'use strict';
const fs = require('fs');
const net = require('net');
const http = require('http');
const plan = JSON.parse(fs.readFileSync(process.env.SLUICE_TASK_FILE, 'utf8'));
const out = {};
const code = (e) => (e && e.code) || String(e);
function tryRead(p) { try { return 'read:' + fs.readFileSync(p, 'utf8').trim(); } catch (e) { return 'refused:' + code(e); } }
function tryWrite(p) { try { fs.writeFileSync(p, 'pwned\n'); return 'written'; } catch (e) { return 'refused:' + code(e); } }
function direct(port) { return new Promise((r) => { const s = net.connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); r('connected'); }); s.on('error', (e) => r('refused:' + code(e))); }); }
function viaProxy(port) {
  return new Promise((r) => {
    const u = new URL(process.env.HTTP_PROXY || 'http://127.0.0.1:1');
    const req = http.request({ host: u.hostname, port: u.port, method: 'CONNECT', path: '127.0.0.1:' + port });
    req.on('connect', (res, sock) => { sock.destroy(); r('status:' + res.statusCode); });
    req.on('response', (res) => r('status:' + res.statusCode));
    req.on('error', (e) => r('refused:' + code(e)));
    req.end();
  });
}
function get(url) {
  return new Promise((r) => {
    const u = new URL(process.env.HTTP_PROXY || 'http://127.0.0.1:1');
    const req = http.request({ host: u.hostname, port: u.port, path: url, method: 'GET' }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => r('status:' + res.statusCode + ':' + b.trim())); });
    req.on('error', (e) => r('refused:' + code(e)));
    req.end();
  });
}
(async () => {
  for (const [name, p] of Object.entries(plan.read || {})) out['read ' + name] = tryRead(p);
  for (const [name, p] of Object.entries(plan.write || {})) out['write ' + name] = tryWrite(p);
  for (const [name, port] of Object.entries(plan.direct || {})) out['direct ' + name] = await direct(port);
  for (const [name, port] of Object.entries(plan.proxy || {})) out['proxy ' + name] = await viaProxy(port);
  for (const [name, url] of Object.entries(plan.get || {})) out['get ' + name] = await get(url);
  if (plan.redirectGit) {
    try { fs.writeFileSync('.git', 'gitdir: ' + plan.redirectGit + '\n'); out['redirect git'] = 'written'; } catch (e) { out['redirect git'] = 'refused:' + code(e); }
  }
  for (const [p, text] of Object.entries(plan.files || {})) fs.writeFileSync(p, text);
  fs.writeFileSync('probes.json', JSON.stringify(out, null, 1) + '\n');
  console.log('probes done');
})();
`;

describe.skipIf(skip !== null)('the sandbox around an agent (bubblewrap)', { timeout: 60_000 }, () => {
  let root: string;
  let fakeHome: string;
  let bin: string;
  let daemonLike: Server;
  let otherService: Server;
  let modelApi: Server;
  const ports = { daemon: 0, other: 0, api: 0 };
  let h: EngineHarness | null = null;

  const listen = async (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-sandbox-'));
    fakeHome = join(root, 'operator-home');
    mkdirSync(join(fakeHome, '.ssh'), { recursive: true });
    writeFileSync(join(fakeHome, '.ssh', 'id_ed25519'), 'FAKE-SSH-KEY\n');
    mkdirSync(join(fakeHome, '.claude'));
    writeFileSync(join(fakeHome, '.claude', 'login.json'), 'fake login\n');
    mkdirSync(join(root, 'connector'));
    writeFileSync(join(root, 'connector', 'connector.json'), '{"privateKey":"FAKE-CONNECTOR-KEY"}\n');
    bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'fake-agent'), FAKE_AGENT, { mode: 0o755 });
    daemonLike = createServer((_q, r) => r.end('daemon'));
    otherService = createServer((_q, r) => r.end('other'));
    modelApi = createServer((_q, r) => r.end('model api answered'));
    ports.daemon = await listen(daemonLike);
    ports.other = await listen(otherService);
    ports.api = await listen(modelApi);
  });
  afterAll(async () => {
    for (const s of [daemonLike, otherService, modelApi]) await new Promise((r) => s?.close(r));
    rmSync(root, { recursive: true, force: true });
  });
  afterEach(async () => {
    await h?.cleanup();
    h = null;
  });

  const start = async (workspace: Record<string, unknown>) => {
    h = new EngineHarness({ workspace });
    writeFileSync(join(h.home, 'daemon.token'), 'FAKE-DAEMON-TOKEN\n');
    // The Node running the tests is the fake agent's interpreter (its shebang): on PATH, the sandbox binds it, as it
    // binds an operator's Node from nvm or a release cache.
    const env = { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: fakeHome, LANG: 'C.UTF-8', SLUICE_CONNECTOR_CONFIG: join(root, 'connector', 'connector.json') };
    await h.start({ env });
    return h;
  };
  const agent = (policy: Record<string, unknown>) => ({ adapter: 'command', argv: ['fake-agent'], policy });
  const dispatch = async (hh: EngineHarness, plan: unknown, executor = 'agent') => {
    const run = await hh.call('runs.open', { workspaceId: 'demo' });
    const s = await hh.call('steps.dispatch', { runId: run.runId, executor, task: JSON.stringify(plan) });
    await hh.settle(s.stepId);
    return { runId: run.runId, attempt: hh.store.getAttempt(s.attempts[0]!.attemptId)! };
  };
  const eventsOf = (hh: EngineHarness, runId: string, attemptId: string, type: string) =>
    hh.store.listEvents({ runId, limit: 10_000 }).filter((e) => e.type === type && e.attemptId === attemptId).map((e) => e.data as Record<string, unknown>);

  it('reads of secrets and other worktrees, writes outside the worktree and unlisted hosts are refused; the listed API answers', async () => {
    const hh = await start({ executors: { agent: agent({ home: { passThrough: true }, network: { allow: [`127.0.0.1:${ports.api}`] } }) }, validations: {} });
    const other = join(hh.runtime.worktrees, 'other-attempt');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'secret.txt'), 'OTHER-WORKTREE\n');
    const plan = {
      read: {
        token: join(hh.home, 'daemon.token'),
        connector: join(root, 'connector', 'connector.json'),
        ssh: join(fakeHome, '.ssh', 'id_ed25519'),
        sshViaHome: '/proc/self/root' + join(fakeHome, '.ssh', 'id_ed25519'),
        otherWorktree: join(other, 'secret.txt'),
        operatorCheckout: join(hh.repo, 'src', 'math.js'),
      },
      write: { repo: join(hh.repo, 'pwned.txt'), usr: '/usr/pwned.txt', home: join(root, 'pwned.txt') },
      direct: { daemon: ports.daemon, other: ports.other },
      proxy: { daemon: ports.daemon, other: ports.other },
      get: { api: `http://127.0.0.1:${ports.api}/v1/messages` },
    };
    const { runId, attempt } = await dispatch(hh, plan);
    expect(attempt.state, `${attempt.failureCode}: ${attempt.summary}`).toBe('succeeded');
    const probes = JSON.parse(git(hh.repo, 'show', `${attempt.commit}:probes.json`)) as Record<string, string>;
    for (const [k, v] of Object.entries(probes)) if (k.startsWith('read ')) expect(v, k).toMatch(/^refused:ENOENT$/);
    // Outside the worktree and the read-only binds, a write lands in the sandbox's private /tmp at most.
    expect(probes['write usr']).toMatch(/^refused:(EROFS|EACCES)$/);
    for (const f of [join(hh.repo, 'pwned.txt'), '/usr/pwned.txt', join(root, 'pwned.txt')]) expect(existsSync(f), f).toBe(false);
    expect(probes['direct daemon']).toMatch(/^refused:ECONNREFUSED$/);
    expect(probes['direct other']).toMatch(/^refused:ECONNREFUSED$/);
    expect(probes['proxy daemon']).toBe('status:403');
    expect(probes['proxy other']).toBe('status:403');
    expect(probes['get api']).toBe('status:200:model api answered');

    const denied = eventsOf(hh, runId, attempt.attemptId, 'attempt.network_denied').map((d) => `${String(d.host)}:${String(d.port)}`);
    expect(denied.sort()).toEqual([`127.0.0.1:${ports.daemon}`, `127.0.0.1:${ports.other}`].sort());
    const lines = eventsOf(hh, runId, attempt.attemptId, 'attempt.log').flatMap((d) => (d.lines as { stream: string; text: string }[]).filter((l) => l.stream === 'sluice').map((l) => l.text));
    expect(lines).toContain(`sandbox: network denied: 127.0.0.1:${ports.other} (not in the sandbox network allowlist)`);
    expect(eventsOf(hh, runId, attempt.attemptId, 'attempt.sandbox')).toEqual([{ child: 'executor', mode: 'bwrap', hosts: [`127.0.0.1:${ports.api}`], limits: expect.stringMatching(/processes 1024/) as unknown }]);
  });

  it('a listed HOME entry is readable and read-only; a policy naming a protected folder fails SANDBOX_UNAVAILABLE before anything runs', async () => {
    const hh = await start({
      executors: {
        agent: agent({ home: { passThrough: true, entries: ['.claude'] } }),
        ssh: agent({ filesystem: { read: ['~/.ssh'] } }),
      },
      validations: {},
    });
    const ok = await dispatch(hh, { read: { login: join(fakeHome, '.claude', 'login.json') }, write: { login: join(fakeHome, '.claude', 'login.json') } });
    const probes = JSON.parse(git(hh.repo, 'show', `${ok.attempt.commit}:probes.json`)) as Record<string, string>;
    expect(probes['read login']).toBe('read:fake login');
    expect(probes['write login']).toMatch(/^refused:EROFS$/);
    expect(readFileSync(join(fakeHome, '.claude', 'login.json'), 'utf8')).toBe('fake login\n');

    const ssh = await dispatch(hh, {}, 'ssh');
    expect(ssh.attempt.failureCode).toBe('SANDBOX_UNAVAILABLE');
    expect(ssh.attempt.summary).toContain(`filesystem.read ~/.ssh would put ${join(fakeHome, '.ssh')} in reach`);
    expect(ssh.attempt.commit).toBeNull();
  });

  it('a policy path holding SLUICE_HOME is refused', async () => {
    const hh = await start({ executors: { agent: agent({ filesystem: { read: [tmpdir()] } }) }, validations: {} });
    const { attempt } = await dispatch(hh, {});
    expect(attempt.failureCode).toBe('SANDBOX_UNAVAILABLE');
    expect(attempt.summary).toMatch(/filesystem\.read .* would put .* in reach of the child/);
  });

  it('a fork bomb is bounded by the pids cgroup (and by the step timeout); nothing of it outlives the attempt', async () => {
    const hh = await start({
      // A shell bomb dies at its first refused fork; node starts it again until the step timeout, so the cgroup (and
      // its count of refused forks) outlives a busy test run's polling delay.
      executors: { bomb: { adapter: 'command', argv: [process.execPath, '-e', BOMB_DRIVER], policy: { limits: { processes: 32 } } } },
      validations: {},
    });
    const run = await hh.call('runs.open', { workspaceId: 'demo' });
    const s = await hh.call('steps.dispatch', { runId: run.runId, executor: 'bomb', task: 'bomb', timeoutMs: 4000 });
    const attemptId = s.attempts[0]!.attemptId;
    await hh.attemptIn(attemptId, ['running']);
    const leader = Number(readFileSync(join(hh.runtime.attempts, attemptId, 'pid'), 'utf8').split('\n')[0]);
    const controllers = findControllers();
    if ('unavailable' in controllers) throw new Error(controllers.unavailable);
    const cage = () => readdirSync(controllers.parents.pids).find((n) => n.startsWith(`sluice-${attemptId}-`));
    // The kernel counts each fork the limit refused in pids.events ("max N").
    const refusedForks = async () => {
      for (let i = 0; i < 100; i++) {
        const name = cage();
        const events = name ? readFileSync(join(controllers.parents.pids, name, 'pids.events'), 'utf8') : '';
        const n = Number(/max (\d+)/.exec(events)?.[1] ?? 0);
        if (n > 0) return { n, current: Number(readFileSync(join(controllers.parents.pids, name!, 'pids.current'), 'utf8')) };
        await new Promise((r) => setTimeout(r, 30));
      }
      const name = cage();
      return { n: 0, current: -1, name, procs: name ? readFileSync(join(controllers.parents.pids, name, 'cgroup.procs'), 'utf8') : '', all: readdirSync(controllers.parents.pids).filter((n) => n.startsWith('sluice')) };
    };
    const bound = await refusedForks();
    expect(bound.n, JSON.stringify(bound)).toBeGreaterThan(0);
    expect(bound.current).toBeLessThanOrEqual(32);
    await hh.settle(s.stepId);
    const a = hh.store.getAttempt(attemptId)!;
    // The step timeout stops it: the bomb never gives up on its own.
    expect(a.state, `${a.failureCode}: ${a.summary}`).toBe('timed_out');
    expect(isAlive(leader)).toBe(false);
    expect(liveInGroup(leader)).toEqual([]);
    // Removed once its last member has finished exiting, which the attempt's ending does not wait for.
    expect(await eventually(() => cage() === undefined), 'the cgroup is removed with the attempt').toBe(true);
  });

  it('"sandbox": "off" runs unconfined and says so on the attempt', async () => {
    const hh = await start({ sandbox: 'off', executors: { agent: agent({}) }, validations: {} });
    const { runId, attempt } = await dispatch(hh, { read: { ssh: join(fakeHome, '.ssh', 'id_ed25519') } });
    const probes = JSON.parse(git(hh.repo, 'show', `${attempt.commit}:probes.json`)) as Record<string, string>;
    expect(probes['read ssh']).toBe('read:FAKE-SSH-KEY');
    expect(eventsOf(hh, runId, attempt.attemptId, 'attempt.sandbox')).toEqual([{ child: 'executor', mode: 'off' }]);
  });

  /** A git folder of the agent's whose config runs a program (a clean filter) on `git add`; the program leaves a marker. */
  const evilGitDir = (hh: EngineHarness) => {
    const dir = join(root, `evil-${Date.now()}`);
    git(hh.repo, 'init', '-q', '--bare', dir);
    git(dir, 'config', 'core.bare', 'false');
    git(dir, 'config', 'filter.evil.clean', `sh -c 'touch ${join(dir, 'FILTER-RAN')}; cat'`);
    return { dir, marker: join(dir, 'FILTER-RAN') };
  };
  const redirectPlan = (dir: string) => ({ redirectGit: dir, files: { '.gitattributes': '* filter=evil\n', 'work.txt': 'the agent wrote this\n' } });

  it("the worktree's .git file is read-only inside: no child points Sluice's git at a folder of its own", async () => {
    const hh = await start({ executors: { agent: agent({}) }, validations: {} });
    const evil = evilGitDir(hh);
    const { attempt } = await dispatch(hh, redirectPlan(evil.dir));
    const probes = JSON.parse(git(hh.repo, 'show', `${attempt.commit}:probes.json`)) as Record<string, string>;
    expect(probes['redirect git']).toMatch(/^refused:E(ROFS|BUSY|PERM|ACCES)$/);
    expect(git(hh.repo, 'show', `${attempt.commit}:work.txt`)).toBe('the agent wrote this');
    expect(existsSync(evil.marker)).toBe(false);
  });

  it('unconfined too, the capture uses the git folders the repository recorded, never the ones the .git file names', async () => {
    const hh = await start({ sandbox: 'off', executors: { agent: agent({}) }, validations: {} });
    const evil = evilGitDir(hh);
    const { attempt } = await dispatch(hh, redirectPlan(evil.dir));
    expect(attempt.state).toBe('succeeded');
    const probes = JSON.parse(git(hh.repo, 'show', `${attempt.commit}:probes.json`)) as Record<string, string>;
    expect(probes['redirect git']).toBe('written');
    // The commit is in the operator's repository, on the attempt branch, and the agent's filter never ran.
    expect(git(hh.repo, 'show', `${attempt.commit}:work.txt`)).toBe('the agent wrote this');
    expect(git(hh.repo, 'rev-parse', attempt.branch)).toBe(attempt.commit);
    expect(existsSync(evil.marker)).toBe(false);
  });

  /** A step of the agent with validation `deps`, in a repository that ignores node_modules. */
  const validatedWithDeps = async (hh: EngineHarness) => {
    writeFileSync(join(hh.repo, '.gitignore'), 'node_modules\n');
    git(hh.repo, 'add', '.gitignore');
    git(hh.repo, 'commit', '-qm', 'ignore node_modules');
    const run = await hh.call('runs.open', { workspaceId: 'demo' });
    const s = await hh.call('steps.dispatch', { runId: run.runId, executor: 'agent', task: '{}', validations: ['deps'] });
    await hh.settle(s.stepId);
    return { run, a: hh.store.getAttempt(s.attempts[0]!.attemptId)! };
  };

  it('validations run confined too, with no network, and read dependencies bound read-only from the checkout', async () => {
    const check = `const fs=require('fs');const r=[];try{fs.readFileSync(${JSON.stringify(join(fakeHome, '.ssh', 'id_ed25519'))});r.push('ssh read')}catch{};try{require('./node_modules/dep/index.js');r.push('dep ok')}catch(e){r.push('dep missing '+e.code)};try{fs.writeFileSync('node_modules/x','');r.push('dep written')}catch(e){r.push('dep '+e.code)};console.log(r.join(','));process.exit(r.join(',')==='dep ok,dep EROFS'?0:1)`;
    const hh = await start({ deps: ['node_modules'], executors: { agent: agent({}) }, validations: { deps: { argv: [process.execPath, '-e', check], timeout: '20s' } } });
    mkdirSync(join(hh.repo, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(hh.repo, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    const { a } = await validatedWithDeps(hh);
    expect(a.state, await hh.artifactText(a.attemptId, 'validation-stdout')).toBe('succeeded');
    expect(await hh.artifactText(a.attemptId, 'validation-stdout')).toBe('dep ok,dep EROFS\n');
  });

  it('the setup step installs dependencies in the fresh worktree with its own network; a failing one fails SETUP_FAILED', async () => {
    const install = `require('fs').mkdirSync('node_modules/dep',{recursive:true});require('fs').writeFileSync('node_modules/dep/index.js','module.exports=1');require('http').get(process.env.HTTP_PROXY ? {host:'127.0.0.1',port:3128,path:'http://127.0.0.1:${ports.api}/registry'} : 'http://127.0.0.1:1',(r)=>process.exit(r.statusCode===200?0:3)).on('error',()=>process.exit(4))`;
    const hh = await start({
      setup: { argv: [process.execPath, '-e', install], timeout: '20s', policy: { network: { allow: [`127.0.0.1:${ports.api}`] } } },
      executors: { agent: agent({}) },
      validations: { deps: { argv: [process.execPath, '-e', "require('./node_modules/dep/index.js')"], timeout: '20s' } },
    });
    const { run, a } = await validatedWithDeps(hh);
    expect(a.state, `${a.failureCode}: ${a.summary}`).toBe('succeeded');
    expect(eventsOf(hh, run.runId, a.attemptId, 'attempt.sandbox').map((d) => d.child)).toEqual(['setup', 'executor', 'validation deps']);
    await hh.cleanup();

    h = await start({ setup: { argv: [process.execPath, '-e', 'process.exit(7)'] }, executors: { agent: agent({}) }, validations: {} });
    const failed = await dispatch(h, {});
    expect(failed.attempt.failureCode).toBe('SETUP_FAILED');
    expect(failed.attempt.summary).toMatch(/exited 7$/);
  });
});


describe('sandbox availability', () => {
  it('without bwrap on the search path the reason names the package', () => {
    const a = sandboxAvailability('/nonexistent');
    expect(a).toEqual({ ok: false, reason: 'bwrap is not on the PATH: install the bubblewrap package (apt-get install bubblewrap)' });
  });
});

describe('sandbox warnings', () => {
  it('a workspace whose sandbox cannot be made is named with the reason', () => {
    expect(sandboxWarnings({ workspaces: { a: { sandbox: 'on' } as never } }, '/nonexistent')).toEqual([
      'workspace a: the sandbox is unavailable, so its attempts fail SANDBOX_UNAVAILABLE: bwrap is not on the PATH: install the bubblewrap package (apt-get install bubblewrap)',
    ]);
  });

  it('sluice status warns about a workspace that runs unconfined', { timeout: 60_000 }, async () => {
    const d = new DaemonProcess({ sandbox: 'off' });
    try {
      await d.start();
      const r = d.sluice('status');
      expect(r.stdout).toContain('warning: workspace demo runs its agents and validations unconfined ("sandbox": "off")');
      expect(JSON.parse(d.sluice('status', '--json').stdout).sandboxWarnings).toHaveLength(1);
    } finally {
      await d.cleanup();
    }
  });
});
