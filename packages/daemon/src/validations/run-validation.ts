import { join } from 'node:path';
import { buildChildEnv, spawnSupervised, type SpawnSpec, type SupervisedProcess } from '../process/index.js';

/** A named validation from the workspace config. */
export interface ValidationSpec {
  name: string;
  argv: readonly string[];
  timeoutMs: number;
  /** Daemon environment variables passed through. */
  env?: readonly string[] | undefined;
}

/** The outcome of one validation run in a worktree. */
export interface ValidationRun {
  name: string;
  argv: string[];
  passed: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  stdoutPath: string;
  stderrPath: string;
  /** Why it could not run at all (e.g. the program is missing), or null. */
  error: string | null;
}

export interface ValidationRunOptions {
  worktree: string;
  /** Where stdout/stderr files go (outside the worktree, so they are never committed). */
  outDir: string;
  graceMs: number;
  outputCapBytes: number;
  /** Variables Sluice sets for the child (a scratch `HOME`), over the allowlist. */
  env?: Readonly<Record<string, string>>;
  /** Called with the live process so the caller can cancel it. */
  onStart?: (cancel: () => Promise<unknown>) => void;
  /** How the process is started (the attempt's sandbox); unconfined by default. */
  spawn?: (spec: SpawnSpec) => Promise<SupervisedProcess>;
}

/**
 * Run one validation: its argv (never a shell) with cwd = the worktree, the env allowlist plus its
 * pass-through names, a timeout with the usual kill sequence, output captured. Passes on exit code 0 only.
 */
export async function runValidation(spec: ValidationSpec, opts: ValidationRunOptions): Promise<ValidationRun> {
  const stdoutPath = join(opts.outDir, `validation-${spec.name}.stdout`);
  const stderrPath = join(opts.outDir, `validation-${spec.name}.stderr`);
  const start = opts.spawn ?? ((spec: SpawnSpec) => Promise.resolve(spawnSupervised(spec)));
  const proc = await start({
    argv: spec.argv,
    cwd: opts.worktree,
    env: buildChildEnv(spec.env ?? [], { ...opts.env, SLUICE_VALIDATION: spec.name }),
    stdoutPath,
    stderrPath,
    outputCapBytes: opts.outputCapBytes,
    timeoutMs: spec.timeoutMs,
    graceMs: opts.graceMs,
  });
  opts.onStart?.(() => proc.cancel());
  const r = await proc.done;
  return {
    name: spec.name,
    argv: [...spec.argv],
    passed: r.spawnError === null && !r.timedOut && !r.cancelled && r.exitCode === 0,
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
    stdoutPath,
    stderrPath,
    error: r.spawnError ? `${r.spawnError.code}: could not start ${spec.argv[0] ?? ''}` : null,
  };
}
