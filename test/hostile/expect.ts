// Shared assertions for the hostile suites.
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect } from 'vitest';
import { ERROR_CATALOG, isErrorCode } from '@sluice/shared-protocol';
import { CASE_COUNTS } from './cases.js';

/** What a refused request answered. */
export interface Answer {
  statusCode: number;
  body: string;
}

/**
 * A refusal is a 4xx whose body is exactly `{code, message[, details]}` with the expected catalog code, and whose
 * message does not echo the request (no reflected input).
 */
export function expectRefusal(res: Answer, label: string, want: { status: number; code: string; operator?: boolean }): void {
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    body = {};
  }
  const got = `${res.statusCode} ${String(body.code)}`;
  expect(got, `${label}: ${res.body.slice(0, 300)}`).toBe(`${want.status} ${want.code}`);
  expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, label).toBeLessThan(500);
  expect(isErrorCode(String(body.code)), `${label}: code in the catalog`).toBe(true);
  expect(ERROR_CATALOG[body.code as keyof typeof ERROR_CATALOG].status, `${label}: catalog status`).toBe(res.statusCode);
  expect(typeof body.message, label).toBe('string');
  // A refusal never tells a remote caller where things live on the machine (the operator's own routes may echo
  // the path the operator typed).
  if (!want.operator) expect(res.body, `${label}: no local path in the answer`).not.toContain(tmpdir());
}

/**
 * Print (and, when SLUICE_HOSTILE_COUNT_FILE is set, append) how many cases a table ran, so the total is real.
 * The documented total is checked against the tables themselves by `count.test.ts`.
 */
export function recordCount(table: string, n: number): void {
  expect(n, `cases run by table ${table} (CASE_COUNTS in cases.ts)`).toBe(CASE_COUNTS[table]);
  console.log(`hostile cases ${table}: ${n}`);
  const file = process.env.SLUICE_HOSTILE_COUNT_FILE;
  if (file) appendFileSync(file, `${table} ${n}\n`);
}
