import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ExecutorError } from './executor-types.js';
import type { Compatibility, ExecutorAdapter, ExecutorFailureCode, ExecutorSpec, Preflight } from './executor-types.js';

const VERSION_RE = /(\d+)\.(\d+)\.(\d+)/;

/**
 * How long `--version` and `--help` may take. Gemini CLI needs 3-5 s for each on an idle machine and far more on a
 * loaded one; a hung program must still not hold the attempt for the step timeout.
 */
export const PREFLIGHT_TIMEOUT_MS = 60_000;

/** Bytes of `--version` / `--help` output read; the rest is ignored. */
const PROBE_OUTPUT_CAP = 256 * 1024;

/** Find an executable on a PATH string (or check an absolute path); null when absent. */
export function findOnPath(binary: string, pathVar: string | undefined): string | null {
  const isExec = (p: string) => {
    try {
      if (!statSync(p).isFile()) return false;
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (binary.includes('/')) return isAbsolute(binary) && isExec(binary) ? binary : null;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, binary);
    if (isExec(p)) return p;
  }
  return null;
}

/** The first `x.y.z` in a `--version` output, or null. */
export function parseVersion(text: string): string | null {
  const m = VERSION_RE.exec(text);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
}

/** Compare two `x.y.z` versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const COMPARATOR = /^(>=|<=|>|<|=)?(\d+\.\d+\.\d+)$/;

/** True when `version` meets every comparator of `range` (`>=2.1.197 <2.2.0`); a malformed range is a bug. */
export function inRange(version: string, range: string): boolean {
  return range
    .trim()
    .split(/\s+/)
    .every((c) => {
      const m = COMPARATOR.exec(c);
      if (!m) throw new Error(`malformed version range ${JSON.stringify(range)}`);
      const d = compareVersions(version, m[2]!);
      return { '>=': d >= 0, '<=': d <= 0, '>': d > 0, '<': d < 0, '=': d === 0 }[m[1] ?? '=']!;
    });
}

/** True when the help text lists the flag as an option of its own (`--verbose`, not `--verbose-log`). */
export function helpHasFlag(help: string, flag: string): boolean {
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s,\\[(])${escaped}(?![\\w-])`, 'm').test(help);
}

function higher(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}

interface ProbeAnswer {
  text: string;
  timedOut: boolean;
  /** The program could not be started (EAGAIN on a loaded machine, EACCES…). */
  spawnError: string | null;
}

/**
 * `--version` and `--help` answers by program identity (path, inode, size, mtime) and arguments: an upgraded CLI is
 * asked again, and parallel attempts share one probe in flight. A probe that timed out or did not start is forgotten.
 */
const probeCache = new Map<string, Promise<ProbeAnswer>>();

function programKey(binaryPath: string): string | null {
  try {
    const st = statSync(binaryPath);
    return `${binaryPath}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    return null;
  }
}

function probe(binaryPath: string, args: readonly string[], env: Record<string, string>, cwd: string, timeoutMs: number): Promise<ProbeAnswer> {
  const program = programKey(binaryPath);
  const key = program ? `${program}\0${args.join('\0')}` : null;
  const cached = key ? probeCache.get(key) : undefined;
  if (cached) return cached;
  const answer = runBounded(binaryPath, args, env, cwd, timeoutMs);
  if (key) {
    probeCache.set(key, answer);
    void answer.then((a) => (a.timedOut || a.spawnError) && probeCache.delete(key));
  }
  return answer;
}

/** Runs a probe in its own process group, killed whole at the bound; stdout and stderr together. */
function runBounded(binaryPath: string, args: readonly string[], env: Record<string, string>, cwd: string, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    let text = '';
    let timedOut = false;
    let spawnError: string | null = null;
    const child = spawn(binaryPath, args, { env, cwd, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const read = (d: Buffer) => {
      if (text.length < PROBE_OUTPUT_CAP) text += d.toString('utf8');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve({ text, timedOut, spawnError });
    };
    child.on('error', (err) => {
      spawnError = err.message;
      done();
    });
    child.on('close', done);
  });
}

/** What preflight found out about an executor's program, whether or not it may run. */
export interface ProgramReport {
  /** The program as configured (`claude`, an absolute path, argv[0]); null when the entry names none. */
  binary: string | null;
  /** Where it was found on the child PATH. */
  binaryPath: string | null;
  version: string | null;
  testedRange: string | null;
  flags: { found: string[]; missing: string[] };
  warnings: string[];
  /** Why it may not run; null when it may. */
  failure: { code: ExecutorFailureCode; message: string } | null;
}

export interface PreflightOptions {
  timeoutMs?: number;
}

/**
 * Everything preflight checks, without throwing: the program on the child PATH, its version against the minimum
 * (the adapter's own or the entry's `minVersion`, whichever is higher) and the adapter's tested range, and every
 * flag the adapter needs in the CLI's `--help`. `sluice executors check` shows this report; attempts refuse on
 * its failure.
 */
export async function inspectProgram(adapter: ExecutorAdapter, spec: ExecutorSpec, env: Record<string, string>, cwd: string, opts: PreflightOptions = {}): Promise<ProgramReport> {
  const report: ProgramReport = { binary: null, binaryPath: null, version: null, testedRange: adapter.compat?.testedRange ?? null, flags: { found: [], missing: [] }, warnings: [], failure: null };
  const refuse = (code: ExecutorFailureCode, message: string) => ({ ...report, failure: { code, message } });
  if (adapter.kind === 'simulation') return { ...report, binary: 'node', binaryPath: process.execPath };
  const binary = adapter.kind === 'command' ? spec.argv?.[0] : (spec.binary ?? adapter.defaultBinary ?? undefined);
  if (!binary) return refuse('EXECUTOR_MISCONFIGURED', adapter.kind === 'command' ? 'a command executor needs a non-empty argv' : `executor ${adapter.kind} names no program`);
  report.binary = binary;
  report.binaryPath = findOnPath(binary, env.PATH);
  if (!report.binaryPath) return refuse('EXECUTOR_NOT_FOUND', `${binary} was not found on PATH (adapter ${adapter.kind})`);
  const min = adapter.kind === 'command' ? (spec.minVersion ?? null) : higher(adapter.builtinMinVersion, spec.minVersion);
  const compat = adapter.compat;
  if (!min && !compat) return report;
  const timeoutMs = opts.timeoutMs ?? PREFLIGHT_TIMEOUT_MS;
  const [versionOut, helpOut] = await Promise.all([
    probe(report.binaryPath, ['--version'], env, cwd, timeoutMs),
    compat ? probe(report.binaryPath, compat.helpArgs, env, cwd, timeoutMs) : null,
  ]);
  const broken = versionOut.spawnError ?? helpOut?.spawnError;
  if (broken) return refuse('EXECUTOR_START_FAILED', `${binary} could not be started for its preflight: ${broken}`);
  const slow = [versionOut.timedOut ? '--version' : null, helpOut?.timedOut ? compat!.helpArgs.join(' ') : null].filter((a) => a !== null);
  if (slow.length > 0) return refuse('EXECUTOR_PREFLIGHT_TIMEOUT', `${slow.map((a) => `\`${binary} ${a}\``).join(' and ')} did not answer within ${timeoutMs / 1000} s (the preflight bound); nothing ran. A loaded machine can be this slow: retry the step`);
  report.version = parseVersion(versionOut.text);
  if (!report.version) return refuse('EXECUTOR_VERSION_UNKNOWN', `${binary} --version did not print a version${min ? `; ${min} or newer is required` : `; the ${adapter.kind} adapter is tested with ${compat!.testedRange}`}`);
  if (min && compareVersions(report.version, min) < 0) return refuse('EXECUTOR_TOO_OLD', `${binary} ${report.version} is older than the required ${min}`);
  if (!compat || !helpOut) return report;
  return checkCompat(report, compat, helpOut.text, adapter.kind);
}

function checkCompat(report: ProgramReport, compat: Compatibility, help: string, kind: string): ProgramReport {
  for (const flag of compat.flags) (helpHasFlag(help, flag) ? report.flags.found : report.flags.missing).push(flag);
  const helpCommand = `${report.binary} ${compat.helpArgs.join(' ')}`;
  if (report.flags.missing.length > 0) {
    const missing = report.flags.missing.join(', ');
    return { ...report, failure: { code: 'EXECUTOR_INCOMPATIBLE', message: `${report.binary} ${report.version} lacks ${missing} (not in \`${helpCommand}\`), which the ${kind} adapter needs; it is tested with ${compat.testedRange}` } };
  }
  if (!inRange(report.version!, compat.testedRange)) {
    report.warnings.push(`${report.binary} ${report.version} is outside the versions the ${kind} adapter is tested with (${compat.testedRange}); its flags are all present, so it runs`);
  }
  return report;
}

/**
 * Check that an executor can run (see `inspectProgram`). Failures carry a stable code; there is never a fallback
 * to another executor or to fewer flags.
 */
export async function preflightExecutor(adapter: ExecutorAdapter, spec: ExecutorSpec, env: Record<string, string>, cwd: string, opts: PreflightOptions = {}): Promise<Preflight> {
  const r = await inspectProgram(adapter, spec, env, cwd, opts);
  if (r.failure) throw new ExecutorError(r.failure.code, r.failure.message);
  return { binaryPath: r.binaryPath!, version: r.version, warnings: r.warnings };
}
