import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { SluiceError } from '@sluice/shared-protocol';

/**
 * Refuse a configured path that could lead execution somewhere else than it says: relative paths, `..`
 * segments, and paths whose existing part goes through a symlink (the real path must equal the written one).
 */
export function assertSafeConfiguredPath(p: string, what: string): string {
  if (!isAbsolute(p)) throw new SluiceError('BAD_REQUEST', `${what} must be an absolute path`);
  if (p.split(/[\\/]+/).includes('..')) throw new SluiceError('BAD_REQUEST', `${what} must not contain ".."`);
  const clean = normalize(p).replace(/[\\/]+$/, '') || sep;
  // Compare the nearest existing ancestor with its real path: a symlink anywhere on the way is refused.
  let existing = clean;
  let rest = '';
  for (;;) {
    try {
      const real = realpathSync(existing);
      if (real !== existing) throw new SluiceError('BAD_REQUEST', `${what} goes through a symlink; configure its real path`);
      return rest ? join(existing, rest) : existing;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = dirname(existing);
      if (parent === existing) return clean;
      rest = rest ? join(basename(existing), rest) : basename(existing);
      existing = parent;
    }
  }
}

/** True when `child` is `root` or lies inside it (both already normalized). */
export function isInside(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}
