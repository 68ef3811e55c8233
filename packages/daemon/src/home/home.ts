import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DAEMON_SOCKET_FILE } from '@sluice/shared-protocol';
import { explainUnwritable } from '@sluice/node-kit';

/** Files and folders under `SLUICE_HOME` (attempts run elsewhere: `RuntimePaths`). */
export interface HomePaths {
  root: string;
  config: string;
  db: string;
  artifacts: string;
  token: string;
  daemonInfo: string;
  /** The Unix socket local clients use (see DAEMON_SOCKET_FILE). */
  socket: string;
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
    token: join(root, 'daemon.token'),
    daemonInfo: join(root, 'daemon.json'),
    socket: join(root, DAEMON_SOCKET_FILE),
  };
}

/** Create the home (mode 700) and its folders; returns its paths. */
export function ensureHome(root: string): HomePaths {
  const p = homePaths(root);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o700);
    mkdirSync(p.artifacts, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw explainUnwritable(root, `cannot create or write SLUICE_HOME ${root}`, err);
  }
  return p;
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

/** Remove `daemon.json` on clean shutdown. */
export function removeDaemonInfo(p: HomePaths): void {
  rmSync(p.daemonInfo, { force: true });
}
