/** Child-process helpers for benchmarks: start helper servers, read their RSS and CPU, stop them by pid. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Start `node <script> ...args` (or any argv when `opts.command` is given) and wait until it prints a line that
 * `opts.ready(line)` accepts (default: a JSON line with `ready: true`). Resolves `{ child, info, stop, pid }`.
 * Bounded by `opts.timeoutMs`; the process is killed if it does not become ready in time.
 */
export function startProcess(script, args = [], opts = {}) {
  const command = opts.command ?? process.execPath;
  const argv = opts.command ? args : [...(opts.nodeArgs ?? []), script, ...args];
  const child = spawn(command, argv, {
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const accept =
    opts.ready ??
    ((line) => {
      if (!line.startsWith('{')) return undefined;
      try {
        const obj = JSON.parse(line);
        return obj && obj.ready ? obj : undefined;
      } catch {
        return undefined;
      }
    });
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const lines = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopChild(child);
      reject(new Error(`${script} not ready after ${timeoutMs} ms\nstdout: ${lines.join('\n').slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    const rl = createInterface({ input: child.stdout });
    let done = false;
    rl.on('line', (line) => {
      if (lines.length < 200) lines.push(line);
      if (done) return;
      const info = accept(line);
      if (info !== undefined) {
        done = true;
        clearTimeout(timer);
        resolve({ child, pid: child.pid, info, stop: () => stopChild(child), stderr: () => stderr, lines });
      }
    });
    child.on('exit', (code, signal) => {
      if (done) return;
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before ready\nstdout: ${lines.join('\n').slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    });
    child.on('error', (err) => {
      if (done) return;
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Stop a child we started: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export function stopChild(child, graceMs = 3000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      child.kill('SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/** Resident set size of a process in bytes (from /proc; Linux only). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Peak RSS (VmHWM) of a process in bytes. */
export function peakRssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** user+system CPU time consumed so far by a process, in milliseconds (from /proc/<pid>/stat). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

/** Run a command to completion; resolves `{ code, stdout, stderr, ms }`. Bounded by `timeoutMs`. */
export function run(command, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0 && !opts.allowFail) {
        reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr.slice(-1000)}`));
        return;
      }
      resolve({ code, stdout, stderr, ms });
    });
  });
}
