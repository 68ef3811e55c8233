import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ExecutorError } from './executor-types.js';
import type { ExecutorAdapter, ExecutorSpec, Preflight } from './executor-types.js';

const VERSION_RE = /(\d+)\.(\d+)\.(\d+)/;

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

function higher(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}

/** `--version` answers by program identity (path, inode, size, mtime): an upgraded CLI is asked again. */
const versionCache = new Map<string, string>();

async function runVersion(binaryPath: string, env: Record<string, string>, cwd: string): Promise<string> {
  let key: string | null = null;
  try {
    const st = statSync(binaryPath);
    key = `${binaryPath}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    key = null;
  }
  const cached = key ? versionCache.get(key) : undefined;
  if (cached !== undefined) return cached;
  const text = await askVersion(binaryPath, env, cwd);
  if (key && parseVersion(text)) versionCache.set(key, text);
  return text;
}

function askVersion(binaryPath: string, env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(binaryPath, ['--version'], { env, cwd, timeout: 15_000, maxBuffer: 64 * 1024, shell: false }, (_err, stdout, stderr) => {
      resolve(`${stdout}\n${stderr}`);
    });
  });
}

/**
 * Check that an executor can run: its program is found on the child PATH, and when a minimum version applies
 * (the adapter's own or the entry's `minVersion`), `--version` reports at least that. Failures carry a stable
 * code; there is never a fallback to another executor.
 */
export async function preflightExecutor(adapter: ExecutorAdapter, spec: ExecutorSpec, env: Record<string, string>, cwd: string): Promise<Preflight> {
  if (adapter.kind === 'simulation') return { binaryPath: process.execPath, version: null };
  let binary: string | undefined;
  if (adapter.kind === 'command') {
    binary = spec.argv?.[0];
    if (!binary) throw new ExecutorError('EXECUTOR_MISCONFIGURED', 'a command executor needs a non-empty argv');
  } else {
    binary = spec.binary ?? adapter.defaultBinary ?? undefined;
  }
  if (!binary) throw new ExecutorError('EXECUTOR_MISCONFIGURED', `executor ${adapter.kind} names no program`);
  const binaryPath = findOnPath(binary, env.PATH);
  if (!binaryPath) throw new ExecutorError('EXECUTOR_NOT_FOUND', `${binary} was not found on PATH (adapter ${adapter.kind})`);
  const min = adapter.kind === 'command' ? (spec.minVersion ?? null) : higher(adapter.builtinMinVersion, spec.minVersion);
  if (!min) return { binaryPath, version: null };
  const version = parseVersion(await runVersion(binaryPath, env, cwd));
  if (!version) throw new ExecutorError('EXECUTOR_VERSION_UNKNOWN', `${binary} --version did not print a version; ${min} or newer is required`);
  if (compareVersions(version, min) < 0) throw new ExecutorError('EXECUTOR_TOO_OLD', `${binary} ${version} is older than the required ${min}`);
  return { binaryPath, version };
}
