import { spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';

/** The identity every Sluice commit carries. */
export const SLUICE_IDENTITY = { name: 'Sluice', email: 'sluice@localhost' } as const;

/**
 * `-c` options on every git call. The repository's own config is writable by whatever ran in a worktree, so
 * nothing it names may run: no hooks, no signing program, no fsmonitor program, no pager, no transport (a lazy
 * fetch would run `core.sshCommand`), no automatic gc. They override the repository's config for that call only.
 */
export const GIT_SAFE_CONFIG = [
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'commit.gpgsign=false',
  '-c', 'tag.gpgsign=false',
  '-c', 'core.fsmonitor=false',
  '-c', 'core.pager=cat',
  '-c', 'protocol.allow=never',
  '-c', 'gc.auto=0',
  '-c', 'maintenance.auto=false',
  '-c', 'advice.detachedHead=false',
] as const;

/**
 * The environment of every git call, built from an allowlist: the user's global/system config, prompts and any
 * `GIT_*` variable of the daemon (`GIT_DIR`, `GIT_CONFIG_*`, ...) are kept out.
 */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: SLUICE_IDENTITY.name,
    GIT_AUTHOR_EMAIL: SLUICE_IDENTITY.email,
    GIT_COMMITTER_NAME: SLUICE_IDENTITY.name,
    GIT_COMMITTER_EMAIL: SLUICE_IDENTITY.email,
    LC_ALL: 'C',
  };
  for (const name of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const v = base[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/** A git call that exited non-zero. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.filter((a) => !a.startsWith('core.') && a !== '-c').slice(0, 4).join(' ')} failed (${exitCode}): ${stderr.trim().slice(0, 500)}`);
    this.name = 'GitCommandError';
  }
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number | null;
}

export interface GitOptions {
  input?: string;
  /** Extra variables for this call (e.g. `GIT_INDEX_FILE`). */
  env?: Record<string, string>;
}

/** Run git with argv (never a shell) in `cwd`; resolves even on a non-zero exit. */
export function runGitRaw(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...GIT_SAFE_CONFIG, ...args], { cwd, env: { ...gitEnv(), ...opts.env }, shell: false, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), exitCode: code }));
  });
}

/** Run git and return stdout; throws `GitCommandError` on a non-zero exit. */
export async function runGit(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<Buffer> {
  const r = await runGitRaw(cwd, args, opts);
  if (r.exitCode !== 0) throw new GitCommandError(args, r.exitCode, r.stderr);
  return r.stdout;
}

/** Run git synchronously (for the CLI's path checks) and return trimmed stdout; throws `GitCommandError`. */
export function gitTextSync(cwd: string, args: readonly string[]): string {
  const r = spawnSync('git', [...GIT_SAFE_CONFIG, ...args], { cwd, env: gitEnv(), shell: false, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new GitCommandError(args, r.status, r.stderr);
  return r.stdout.trim();
}

/** Run git and return trimmed stdout text. */
export async function gitText(cwd: string, args: readonly string[]): Promise<string> {
  return (await runGit(cwd, args)).toString('utf8').trim();
}

/** A git call whose stdout is read as a stream, never collected in memory. */
export interface GitStream {
  stdout: Readable;
  /** Settles when git exits; rejects with `GitCommandError` on a non-zero exit. */
  done: Promise<void>;
  /** Stop git (the reader gave up). */
  kill(): void;
}

/** Run git with argv in `cwd`, handing its stdout over as a stream. */
export function streamGit(cwd: string, args: readonly string[], opts: Omit<GitOptions, 'input'> = {}): GitStream {
  const child = spawn('git', [...GIT_SAFE_CONFIG, ...args], { cwd, env: { ...gitEnv(), ...opts.env }, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
  const err: Buffer[] = [];
  let errBytes = 0;
  child.stderr.on('data', (c: Buffer) => {
    // stderr is only read for the message; a bounded tail is enough.
    if (errBytes < 64 * 1024) err.push(c);
    errBytes += c.length;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new GitCommandError(args, code, Buffer.concat(err).toString('utf8')))));
  });
  // A reader that stops early must not leave an unhandled rejection behind.
  done.catch(() => undefined);
  return { stdout: child.stdout, done, kill: () => void child.kill('SIGKILL') };
}
