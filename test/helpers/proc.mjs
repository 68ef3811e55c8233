// Real child processes for the end-to-end harness: spawn a bin, capture its output, wait for readiness, stop it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil as kitWaitUntil } from '@sluice/test-kit';

const OUTPUT_CAP = 4 * 1024 * 1024;

// Children run in their own process group so a terminal Ctrl-C reaches only the harness, which then stops them
// in order; if the harness itself dies, whatever is still running is killed on the way out.
const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Raised when a process does not reach a state in time; carries its recent output for the failure message. */
export class HarnessTimeout extends Error {
  constructor(what, output) {
    super(`${what}${output ? `\n--- recent output ---\n${output.slice(-4000)}` : ''}`);
    this.name = 'HarnessTimeout';
  }
}

/** A long-running child (daemon, relay, connector) with captured output. */
export class ManagedProcess {
  /**
   * @param {string} name label used in messages
   * @param {string[]} argv node argv (script first)
   * @param {{ env?: Record<string, string | undefined>, cwd?: string }} [opts]
   */
  constructor(name, argv, opts = {}) {
    this.name = name;
    this.argv = argv;
    this.output = '';
    this.exit = null;
    this.child = spawn(process.execPath, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      detached: true,
    });
    this.pid = this.child.pid;
    live.add(this);
    const onData = (chunk) => {
      this.output += chunk.toString('utf8');
      if (this.output.length > OUTPUT_CAP) this.output = this.output.slice(-OUTPUT_CAP / 2);
      if (process.env.SLUICE_E2E_VERBOSE) process.stderr.write(`[${this.name}] ${chunk}`);
      for (const waiter of [...this.waiters]) waiter();
    };
    this.waiters = new Set();
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        for (const waiter of [...this.waiters]) waiter();
        resolve(this.exit);
      });
    });
  }

  /** True while the process has not exited. */
  get running() {
    return this.exit === null;
  }

  /**
   * Wait until the captured output (from `from` on) matches `re`; returns the match.
   * @param {RegExp} re
   * @param {{ timeoutMs?: number, from?: number }} [opts]
   */
  waitForOutput(re, opts = {}) {
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const from = opts.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.output.slice(from));
        if (m) {
          done();
          resolve(m);
        } else if (this.exit) {
          done();
          reject(new HarnessTimeout(`${this.name} exited (${JSON.stringify(this.exit)}) before printing ${re}`, this.output));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new HarnessTimeout(`${this.name} did not print ${re} within ${timeoutMs} ms`, this.output));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Stop the process: `signal` (SIGTERM), wait up to `timeoutMs`, then SIGKILL. Returns how it ended and
   * whether it ended by itself after the first signal (`clean`).
   * @param {{ signal?: NodeJS.Signals, timeoutMs?: number }} [opts]
   */
  async stop(opts = {}) {
    if (!this.running) return { ...this.exit, clean: this.exit.code === 0 };
    const signal = opts.signal ?? 'SIGTERM';
    this.child.kill(signal);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const res = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
    if (res) return { ...res, clean: res.code === 0 || (res.code === null && res.signal === signal && signal !== 'SIGKILL') };
    this.child.kill('SIGKILL');
    const killed = await this.exited;
    return { ...killed, clean: false };
  }

  /** Kill the process at once (a crash), and wait for the exit. */
  async crash() {
    if (!this.running) return this.exit;
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * Run a CLI to completion.
 * @param {string} script path of the node script
 * @param {string[]} args
 * @param {{ env?: Record<string, string | undefined>, cwd?: string, input?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }>}
 */
export function runNode(script, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HarnessTimeout(`${script} ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 30_000} ms`, stdout + stderr));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Run a command (argv, no shell) to completion, failing on a non-zero exit.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string | undefined> }} [opts]
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim() || stdout.trim()}`));
    });
  });
}

/**
 * Poll until `fn` returns a truthy value (errors count as "not yet"); returns that value. The kit's `waitUntil`
 * with this harness's defaults (15 s, 50 ms).
 * @template T
 * @param {() => T | Promise<T>} fn
 * @param {{ timeoutMs?: number, intervalMs?: number, what?: string }} [opts]
 * @returns {Promise<NonNullable<T>>}
 */
export function waitUntil(fn, opts = {}) {
  return kitWaitUntil(fn, { timeoutMs: 15_000, intervalMs: 50, ...opts, what: opts.what ?? 'a condition' });
}

/** Read and parse a JSON file, or undefined when it does not exist (yet) or is half-written. */
export function readJsonIfExists(path) {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
