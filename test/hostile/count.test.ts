// The hostile and fault case counts documented in docs/SECURITY.md are the counts the suites really run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRASH_WINDOW_CASES, DEFAULT_KILL_ROUNDS, STORAGE_CASES } from '../fault/fault-cases.js';
import { CASE_COUNTS, hostileCaseTotal } from './cases.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/SECURITY.md'), 'utf8');

function documented(label: string): number {
  const m = new RegExp(`${label}: \\*\\*(\\d+)\\*\\*`).exec(doc);
  if (!m) throw new Error(`docs/SECURITY.md has no "${label}: **N**" line`);
  return Number(m[1]);
}

describe('docs/SECURITY.md case counts', () => {
  it('the hostile-input total and each surface subtotal equal the tables', () => {
    console.log(`hostile-input cases: ${hostileCaseTotal()}`);
    expect(documented('Hostile-input cases')).toBe(hostileCaseTotal());
    for (const surface of ['daemon', 'relay', 'mcp', 'frames', 'escape', 'slow']) {
      const n = Object.entries(CASE_COUNTS)
        .filter(([k]) => k.startsWith(`${surface}.`))
        .reduce((a, [, v]) => a + v, 0);
      console.log(`hostile ${surface}: ${n}`);
      expect(documented(`Hostile ${surface}`), surface).toBe(n);
    }
  });

  it('the fault counts equal the suite defaults', () => {
    expect(documented('Kill rounds')).toBe(DEFAULT_KILL_ROUNDS);
    expect(documented('Storage scenarios')).toBe(STORAGE_CASES);
    expect(documented('Crash-window scenarios')).toBe(CRASH_WINDOW_CASES);
  });

  it('every counted table is run by a test, and every test table is counted', () => {
    const dir = join(ROOT, 'test/hostile');
    const recorded = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.ts'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/recordCount\('([a-zA-Z.]+)'/g)) recorded.add(m[1]!);
    }
    expect([...recorded].sort()).toEqual(Object.keys(CASE_COUNTS).sort());
  });
});
