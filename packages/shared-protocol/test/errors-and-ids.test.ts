import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES, SluiceError, idPattern, newId, hasScope, RunId } from '@sluice/shared-protocol';

describe('error catalog', () => {
  it('maps every code to an HTTP error status and a message', () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(ERROR_CATALOG[code].status).toBeGreaterThanOrEqual(400);
      expect(ERROR_CATALOG[code].status).toBeLessThan(600);
      expect(ERROR_CATALOG[code].message.length).toBeGreaterThan(3);
    }
  });
  it('SluiceError carries the catalog status and a wire body', () => {
    const e = new SluiceError('RUN_NOT_FOUND');
    expect(e.status).toBe(404);
    expect(e.toBody()).toEqual({ code: 'RUN_NOT_FOUND', message: 'No such run.' });
  });
});

describe('ids', () => {
  it('newId makes ids that match their strict pattern and sort by time', () => {
    const a = newId('run', randomBytes, 1_000);
    const b = newId('run', randomBytes, 2_000);
    expect(a).toMatch(idPattern('run'));
    expect(RunId.safeParse(a).success).toBe(true);
    expect(a < b).toBe(true);
    expect(newId('step', randomBytes)).toMatch(/^stp_/);
  });
  it('admin satisfies every scope, others only their own', () => {
    expect(hasScope(['admin'], 'gates:decide')).toBe(true);
    expect(hasScope(['runs:read'], 'runs:write')).toBe(false);
    expect(hasScope(['runs:write'], 'runs:write')).toBe(true);
  });
});
