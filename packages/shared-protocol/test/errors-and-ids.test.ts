import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES, ErrorBody, MAX_ALLOWED_VALUES, SluiceError, idPattern, newId, hasScope, RunId } from '@sluice/shared-protocol';

describe('error catalog', () => {
  it('maps every code to an HTTP error status and a message', () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(ERROR_CATALOG[code].status).toBeGreaterThanOrEqual(400);
      expect(ERROR_CATALOG[code].status).toBeLessThan(600);
      expect(ERROR_CATALOG[code].message.length).toBeGreaterThan(3);
      expect(ERROR_CATALOG[code].hint.length).toBeGreaterThan(10);
    }
  });
  it('SluiceError carries the catalog status and a wire body', () => {
    const e = new SluiceError('RUN_NOT_FOUND');
    expect(e.status).toBe(404);
    expect(e.toBody()).toEqual({ code: 'RUN_NOT_FOUND', message: 'No such run.', hint: ERROR_CATALOG.RUN_NOT_FOUND.hint, retryable: false });
  });
  it('a retryable refusal says when to retry; the body keeps allowed values bounded', () => {
    expect(new SluiceError('INSTANCE_OFFLINE').toBody()).toMatchObject({ retryable: true, retryAfterMs: 5000 });
    expect(new SluiceError('RATE_LIMITED', undefined, undefined, { retryAfterMs: 7000 }).toBody()).toMatchObject({ retryable: true, retryAfterMs: 7000 });
    expect(new SluiceError('EXECUTOR_NOT_ALLOWED', undefined, undefined, { retryAfterMs: 7000 }).toBody()).not.toHaveProperty('retryAfterMs');
    const many = Array.from({ length: 100 }, (_, i) => `ex${i}`);
    const body = new SluiceError('EXECUTOR_NOT_ALLOWED', undefined, undefined, { allowed: many }).toBody();
    expect(ErrorBody.parse(body).allowed).toHaveLength(MAX_ALLOWED_VALUES);
  });
  it('an error body read back keeps its allowed values, hint and code', () => {
    const body = { code: 'ATTEMPT_CHOICE_REQUIRED', message: 'pick one', hint: 'a daemon hint', retryable: false, allowed: ['attempt_a', 'attempt_b'] };
    expect(SluiceError.fromBody(ErrorBody.parse(body)).toBody()).toEqual(body);
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
