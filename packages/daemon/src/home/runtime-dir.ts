import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceError } from '@sluice/shared-protocol';
import { assertSafeConfiguredPath, isInside } from '../git/safe-path.js';

/**
 * Where attempts run: worktrees, task files and per-attempt scratch (HOME included). Kept apart from
 * `SLUICE_HOME`, so no path from a child's cwd or environment leads to the daemon token, the ledger or the config.
 */
export interface RuntimePaths {
  root: string;
  worktrees: string;
  attempts: string;
}

/** The runtime base when the operator names none: `<tmpdir>/sluice-<uid>`. */
export function defaultRuntimeBase(): string {
  return join(realpathSync(tmpdir()), `sluice-${process.getuid?.() ?? 'user'}`);
}

/** The runtime base from the CLI's environment: `SLUICE_RUNTIME_DIR`, else the default. */
export function resolveRuntimeBase(env: NodeJS.ProcessEnv): string {
  const fromEnv = env['SLUICE_RUNTIME_DIR'];
  return fromEnv && fromEnv.length > 0 ? fromEnv : defaultRuntimeBase();
}

/**
 * The runtime folder of one home, `<base>/<hash of the home path>`, without touching the disk: each daemon home
 * has its own, so leftovers of one are never taken for another's.
 */
export function runtimePaths(base: string, homeRoot: string): RuntimePaths {
  const root = join(base, createHash('sha256').update(homeRoot).digest('hex').slice(0, 16));
  return { root, worktrees: join(root, 'worktrees'), attempts: join(root, 'attempts') };
}

/**
 * Create (or check) the runtime folder of one home (`runtimePaths`). Refuses a base inside the home or holding it, and any
 * existing folder on the way that is not a directory of ours with mode 700: `<tmpdir>` is shared with every local
 * account, which could have made the folder first.
 */
export function ensureRuntime(base: string, homeRoot: string): RuntimePaths {
  const clean = assertSafeConfiguredPath(base, 'SLUICE_RUNTIME_DIR');
  if (isInside(homeRoot, clean) || isInside(clean, homeRoot)) {
    throw new SluiceError('BAD_REQUEST', `the runtime folder ${clean} and SLUICE_HOME ${homeRoot} must not contain each other: worktrees would lead to the daemon's secrets; set SLUICE_RUNTIME_DIR to a folder outside SLUICE_HOME`);
  }
  const paths = runtimePaths(clean, homeRoot);
  mkdirSync(clean, { recursive: true, mode: 0o700 });
  for (const dir of [clean, paths.root, paths.worktrees, paths.attempts]) ensurePrivateDir(dir);
  return paths;
}

function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  const problem = !st.isDirectory() ? 'is not a directory' : uid !== undefined && st.uid !== uid ? `belongs to uid ${st.uid}, not to you (${uid})` : (st.mode & 0o077) !== 0 ? `has mode ${(st.mode & 0o777).toString(8)}, not 700` : null;
  if (problem) throw new SluiceError('STORAGE_ERROR', `refusing the runtime folder ${dir}: it ${problem}. Remove it, or set SLUICE_RUNTIME_DIR to a folder of your own`);
}
