import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SluiceError } from '@sluice/shared-protocol';

/**
 * Name the real cause when `path` cannot be created or written: a recursive mkdir on a read-only file system
 * reports ENOENT, which would send the operator looking for a missing folder. `action` opens the message
 * (`cannot create the relay database /x`). Other errors come back as they are.
 */
export function explainUnwritable(path: string, action: string, err: unknown): unknown {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let cause = (err as NodeJS.ErrnoException).code;
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    cause = (e as NodeJS.ErrnoException).code ?? cause;
  }
  if (cause === 'EROFS') return new SluiceError('STORAGE_ERROR', `${action}: ${dir} is on a read-only file system`);
  if (cause === 'EACCES' || cause === 'EPERM') return new SluiceError('STORAGE_ERROR', `${action}: permission denied on ${dir}`);
  if (cause === 'ENOSPC') return new SluiceError('STORAGE_ERROR', `${action}: no space left on the device`);
  return err;
}
