import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '@sluice/shared-protocol';
import { explainUnwritable } from '@sluice/node-kit';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

describe('explainUnwritable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-storage-'));

  it('names a full device as STORAGE_ERROR with the action', () => {
    const e = explainUnwritable(join(dir, 'missing', 'deeper'), 'cannot create the relay database x', errno('ENOSPC'));
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe('STORAGE_ERROR');
    expect((e as SluiceError).message).toBe('cannot create the relay database x: no space left on the device');
  });

  it('returns other errors as they are when the nearest existing folder is writable', () => {
    const err = errno('ENOENT');
    expect(explainUnwritable(join(dir, 'missing'), 'cannot create it', err)).toBe(err);
  });
});
