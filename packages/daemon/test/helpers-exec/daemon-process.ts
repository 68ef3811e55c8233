import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimePaths } from '../../src/home/runtime-dir.js';
import { makeRepo } from '@sluice/test-kit';
import { BUGGY_MATH } from './engine-harness.js';

export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TEST_JS = `import { add } from './src/math.js';\nif (add(2, 2) !== 4) { console.log('FAIL'); process.exit(1); }\nconsole.log('ok');\n`;

/** A real `sluice daemon start` process on port 0 over a temp home and a small repo. */
export class DaemonProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-daemon-'));
  readonly home = join(this.dir, 'home');
  readonly repo = join(this.dir, 'repo');
  readonly base: string;
  /** Where the daemon runs attempts (`SLUICE_RUNTIME_DIR` below this test's folder). */
  readonly runtime = runtimePaths(join(this.dir, 'run'), this.home);
  child: ChildProcess | null = null;
  url = '';
  token = '';

  constructor(workspace: Record<string, unknown> = {}) {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    this.base = makeRepo(this.repo, { 'src/math.js': BUGGY_MATH, 'test.js': TEST_JS, 'package.json': '{"type":"module"}\n' }).head;
    writeFileSync(
      join(this.home, 'config.json'),
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        cancelGrace: '300ms',
        workspaces: {
          demo: { path: this.repo, name: 'demo', executors: { sim: { adapter: 'simulation' } }, validations: { test: { argv: [process.execPath, 'test.js'], timeout: '30s' } }, allowSimulationWithValidations: true, ...workspace },
        },
      }),
    );
  }

  /** Start the daemon and wait until its daemon.json names this process. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'daemon', 'start', '--port', '0'], { env: { ...process.env, SLUICE_HOME: this.home, SLUICE_RUNTIME_DIR: join(this.dir, 'run') }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    const end = Date.now() + 20_000;
    for (;;) {
      const info = join(this.home, 'daemon.json');
      if (existsSync(info)) {
        const j = JSON.parse(readFileSync(info, 'utf8')) as { url: string; pid: number };
        if (j.pid === child.pid) {
          this.url = j.url;
          this.token = readFileSync(join(this.home, 'daemon.token'), 'utf8').trim();
          return;
        }
      }
      if (child.exitCode !== null || Date.now() > end) throw new Error(`daemon did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async call<T = Record<string, unknown>>(verb: string, input: unknown): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/verbs/${verb}`, { method: 'POST', headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
    const body = (await res.json()) as T & { code?: string; message?: string };
    if (!res.ok) throw Object.assign(new Error(`${verb}: ${body.code}: ${body.message}`), { code: body.code });
    return body;
  }

  /** Kill the daemon process with a signal and wait for its exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Run the `sluice` CLI against this home. */
  sluice(...args: string[]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, SLUICE_HOME: this.home, SLUICE_RUNTIME_DIR: join(this.dir, 'run') }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async cleanup(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
