import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SluiceError } from '@sluice/shared-protocol';

/** Files and folders under `SLUICE_HOME`. */
export interface HomePaths {
  root: string;
  config: string;
  db: string;
  artifacts: string;
  worktrees: string;
  /** Per-attempt scratch folders (task file, raw output, pid). */
  attempts: string;
  token: string;
  daemonInfo: string;
}

/** Where the home is: `SLUICE_HOME` or `~/.sluice`. Only the CLI passes `process.env` here. */
export function resolveHome(env: NodeJS.ProcessEnv): string {
  const fromEnv = env['SLUICE_HOME'];
  return resolve(fromEnv && fromEnv.length > 0 ? fromEnv : join(homedir(), '.sluice'));
}

/** The paths of a home, without touching the disk. */
export function homePaths(root: string): HomePaths {
  return {
    root,
    config: join(root, 'config.json'),
    db: join(root, 'state.db'),
    artifacts: join(root, 'artifacts'),
    worktrees: join(root, 'worktrees'),
    attempts: join(root, 'attempts'),
    token: join(root, 'daemon.token'),
    daemonInfo: join(root, 'daemon.json'),
  };
}

/** Create the home (mode 700) and its folders; returns its paths. */
export function ensureHome(root: string): HomePaths {
  const p = homePaths(root);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o700);
    mkdirSync(p.artifacts, { recursive: true, mode: 0o700 });
    mkdirSync(p.worktrees, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw unwritableHome(root, err);
  }
  return p;
}

/**
 * Name the real cause when the home cannot be created: a recursive mkdir on a read-only file system reports ENOENT,
 * which would send the operator looking for a missing folder.
 */
function unwritableHome(root: string, err: unknown): unknown {
  let dir = root;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let cause = (err as NodeJS.ErrnoException).code;
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    cause = (e as NodeJS.ErrnoException).code ?? cause;
  }
  if (cause === 'EROFS') return new SluiceError('STORAGE_ERROR', `cannot create or write SLUICE_HOME ${root}: ${dir} is on a read-only file system`);
  if (cause === 'EACCES' || cause === 'EPERM') return new SluiceError('STORAGE_ERROR', `cannot create or write SLUICE_HOME ${root}: permission denied on ${dir}`);
  if (cause === 'ENOSPC') return new SluiceError('STORAGE_ERROR', `cannot create SLUICE_HOME ${root}: no space left on the device`);
  return err;
}

/** Write a file atomically (temp + rename) with the given mode. */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** The daemon bearer token, created (random, mode 600) when missing. */
export function ensureToken(p: HomePaths): string {
  if (!existsSync(p.token)) {
    try {
      writeFileSync(p.token, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(p.token, 0o600);
  return readToken(p);
}

/** Read the daemon token; throws when there is none. */
export function readToken(p: HomePaths): string {
  const token = readFileSync(p.token, 'utf8').trim();
  if (token.length < 16) throw new Error(`${p.token} does not hold a token; run \`sluice init\``);
  return token;
}

/** What `daemon.json` says about a listening daemon. */
export interface DaemonInfo {
  url: string;
  pid: number;
  startedAt: string;
}

/** Record where the daemon listens (mode 600). */
export function writeDaemonInfo(p: HomePaths, info: DaemonInfo): void {
  writeFileAtomic(p.daemonInfo, `${JSON.stringify(info)}\n`, 0o600);
}

/** Where a daemon listens, or null when none wrote `daemon.json`. */
export function readDaemonInfo(p: HomePaths): DaemonInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(p.daemonInfo, 'utf8')) as DaemonInfo;
    return typeof parsed.url === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** Remove `daemon.json` on clean shutdown. */
export function removeDaemonInfo(p: HomePaths): void {
  rmSync(p.daemonInfo, { force: true });
}
