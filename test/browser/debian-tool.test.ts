import { describe, expect, it } from 'vitest';
import { requireDebianTool } from '@sluice/test-kit';

const MISSING = { path: '/nonexistent/chromium', pkg: 'chromium', skip: 'BROWSER' };

describe('a suite that needs a Debian tool', () => {
  it('fails naming the package when the tool is missing', () => {
    expect(() => requireDebianTool(MISSING, {})).toThrow(/install the Debian package `chromium`/);
  });

  it('skips with SLUICE_SKIP_<X>=1, but never under CI=true', () => {
    expect(requireDebianTool(MISSING, { SLUICE_SKIP_BROWSER: '1' })).toEqual({ skip: expect.stringContaining('chromium') });
    expect(() => requireDebianTool(MISSING, { SLUICE_SKIP_BROWSER: '1', CI: 'true' })).toThrow(/refused under CI=true/);
  });

  it('gives the path when the tool is there', () => {
    expect(requireDebianTool({ ...MISSING, path: process.execPath }, {})).toEqual({ path: process.execPath });
  });
});
