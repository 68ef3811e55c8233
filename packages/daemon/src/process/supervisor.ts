import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** What to run and how. `argv[0]` is the program; there is never a shell. */
export interface SpawnSpec {
  argv: readonly string[];
  cwd: string;
  /** The whole child environment (build it with `buildChildEnv`). */
  env: Record<string, string>;
  /** Written to the child's stdin, which is then closed. */
  stdin?: string | Buffer;
  stdoutPath: string;
  stderrPath: string;
  /** Bytes kept per stream; the rest is counted and dropped. */
  outputCapBytes: number;
  /** Kill sequence starts after this many ms (0 or undefined: no timeout). */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Kill sequence starts when neither stream printed anything for this many ms (0 or undefined: never). */
  idleTimeoutMs?: number;
  /** Live stdout, for progress. Called with raw chunks, also beyond the cap. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /**
   * Called with the pid before the program may run: the child gets a pipe as descriptor 3 and is expected to
   * wait for a byte on it (bwrap `--block-fd 3`), written once this returns. A throw kills the child.
   */
  gate?: (pid: number) => void;
}

/** How a supervised process ended. Only produced after the exit was observed. */
export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The kill sequence ran because of the timeout. */
  timedOut: boolean;
  /** The kill sequence ran because of `cancel()`. */
  cancelled: boolean;
  /** The kill sequence ran because the child printed nothing for `idleTimeoutMs`. */
  stalled: boolean;
  /** SIGKILL had to be sent (the group ignored SIGTERM for the whole grace period). */
  killed: boolean;
  /** The program could not be started (e.g. ENOENT). */
  spawnError: { code: string; message: string } | null;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

/** A running child in its own process group. */
export interface SupervisedProcess {
  readonly pid: number | undefined;
  /** Settles after `exit` and the close of its pipes (or a short bound after `exit` when a stray holds them). */
  readonly done: Promise<ProcessResult>;
  /** SIGTERM to the group, grace, SIGKILL; resolves with the result once the exit is observed. Idempotent. */
  cancel(): Promise<ProcessResult>;
}

/** After `exit`, how long to wait for pipes held by an escaped descendant before giving up on them. */
const PIPE_CLOSE_BOUND_MS = 2_000;

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    // ESRCH: the whole group is already gone, which is what we want.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Run the gate, then let the child go on (one byte on its descriptor 3); on a throw, report it instead. */
function openGate(fd3: Writable, gate: () => void, failed: (err: Error) => void): void {
  fd3.on('error', () => undefined);
  try {
    gate();
  } catch (err) {
    fd3.destroy();
    failed(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  fd3.end('1');
}

class CappedFile {
  private fd: number;
  bytes = 0;
  kept = 0;
  constructor(
    path: string,
    private readonly cap: number,
  ) {
    this.fd = openSync(path, 'w', 0o600);
  }
  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0 || this.fd < 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    try {
      writeSync(this.fd, part);
      this.kept += part.length;
    } catch {
      // A full or failing disk must not take the daemon down from inside a pipe callback: stop capturing
      // (the capture reads as truncated) and let the attempt finish; its artifacts then fail to record.
      this.close();
    }
  }
  get truncated(): boolean {
    return this.bytes > this.kept;
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Spawn a program under supervision: `shell: false`, its own process group (`detached`), an explicit env,
 * stdout/stderr to capped files, an optional timeout. Any process left in the group when the leader exits is
 * killed, so grandchildren do not outlive their attempt.
 */
export function spawnSupervised(spec: SpawnSpec): SupervisedProcess {
  const started = Date.now();
  const out = new CappedFile(spec.stdoutPath, spec.outputCapBytes);
  const errFile = new CappedFile(spec.stderrPath, spec.outputCapBytes);
  const [program, ...args] = spec.argv;
  if (!program) throw new Error('argv must name a program');

  let timedOut = false;
  let cancelled = false;
  let stalled = false;
  let killed = false;
  let exited = false;
  let spawnError: ProcessResult['spawnError'] = null;
  let exitCode: number | null = null;
  let exitSignal: NodeJS.Signals | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const idleMs = spec.idleTimeoutMs ?? 0;
  const armIdle = () => {
    if (idleMs <= 0 || exited || stalled || cancelled || timedOut) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (exited || cancelled || timedOut) return;
      stalled = true;
      killSequence();
    }, idleMs);
  };

  const child = spawn(program, args, {
    cwd: spec.cwd,
    env: spec.env,
    shell: false,
    detached: true,
    stdio: spec.gate ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const pid = child.pid;
  if (spec.gate && pid !== undefined) openGate(child.stdio[3] as Writable, () => spec.gate!(pid), (err) => {
    spawnError = { code: 'GATE_FAILED', message: err.message };
    signalGroup(pid, 'SIGKILL');
  });

  child.stdout.on('data', (c: Buffer) => {
    armIdle();
    out.write(c);
    spec.onStdout?.(c);
  });
  child.stderr.on('data', (c: Buffer) => {
    armIdle();
    errFile.write(c);
    spec.onStderr?.(c);
  });
  // A child that never reads stdin closes it early; EPIPE is not our failure.
  child.stdin.on('error', () => undefined);
  if (spec.stdin !== undefined) child.stdin.end(spec.stdin);
  else child.stdin.end();

  const done = new Promise<ProcessResult>((resolve) => {
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      if (idleTimer) clearTimeout(idleTimer);
      out.close();
      errFile.close();
      resolve({
        exitCode,
        signal: exitSignal,
        timedOut,
        cancelled,
        stalled,
        killed,
        spawnError,
        stdoutBytes: out.bytes,
        stderrBytes: errFile.bytes,
        stdoutTruncated: out.truncated,
        stderrTruncated: errFile.truncated,
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (pid === undefined || !exited) {
        spawnError = { code: err.code ?? 'SPAWN_FAILED', message: err.message };
        if (pid === undefined) {
          exited = true;
          finish();
        }
      }
    });
    child.on('exit', (code, signal) => {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      // The leader is gone; whatever it left in its group goes with it.
      signalGroup(pid, 'SIGKILL');
      const bound = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, PIPE_CLOSE_BOUND_MS);
      bound.unref();
    });
    child.on('close', () => {
      if (exited) finish();
    });
  });

  const killSequence = () => {
    if (exited) return;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => {
      if (exited) return;
      killed = true;
      signalGroup(pid, 'SIGKILL');
    }, spec.graceMs);
  };

  armIdle();
  if (spec.timeoutMs && spec.timeoutMs > 0) {
    timeoutTimer = setTimeout(() => {
      if (exited || cancelled || stalled) return;
      timedOut = true;
      killSequence();
    }, spec.timeoutMs);
  }

  return {
    pid,
    done,
    cancel() {
      if (!exited && !cancelled && !timedOut && !stalled) {
        cancelled = true;
        killSequence();
      }
      return done;
    },
  };
}
