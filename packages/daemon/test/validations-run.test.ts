import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runValidation } from '../src/validations/index.js';

let dir: string;
let wt: string;
let out: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-val-'));
  wt = join(dir, 'wt');
  out = join(dir, 'out');
  mkdirSync(wt);
  mkdirSync(out);
  writeFileSync(join(wt, 'check.js'), `const ok = require('fs').readFileSync('state.txt','utf8').trim() === 'good'; console.log(ok ? 'pass' : 'FAIL'); process.exit(ok ? 0 : 1);`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = () => ({ worktree: wt, outDir: out, graceMs: 300, outputCapBytes: 1 << 20 });

describe('runValidation', () => {
  it('runs argv in the worktree and passes on exit 0, capturing output', async () => {
    writeFileSync(join(wt, 'state.txt'), 'good');
    const r = await runValidation({ name: 'test', argv: [process.execPath, 'check.js'], timeoutMs: 10_000 }, opts());
    expect(r.passed).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(r.stdoutPath, 'utf8')).toBe('pass\n');
  });

  it('fails on a non-zero exit, records the code', async () => {
    writeFileSync(join(wt, 'state.txt'), 'bad');
    const r = await runValidation({ name: 'test', argv: [process.execPath, 'check.js'], timeoutMs: 10_000 }, opts());
    expect(r.passed).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(readFileSync(r.stdoutPath, 'utf8')).toBe('FAIL\n');
  });

  it('fails on timeout and says so', async () => {
    const r = await runValidation({ name: 'slow', argv: [process.execPath, '-e', 'setInterval(()=>{},1000)'], timeoutMs: 200 }, opts());
    expect(r.passed).toBe(false);
    expect(r.timedOut).toBe(true);
  });

  it('passes only the named environment variables through', async () => {
    process.env.SLUICE_VAL_CI = 'true';
    process.env.SLUICE_VAL_SECRET = 'hidden';
    try {
      const r = await runValidation(
        { name: 'env', argv: [process.execPath, '-e', 'console.log(process.env.SLUICE_VAL_CI, process.env.SLUICE_VAL_SECRET)'], timeoutMs: 10_000, env: ['SLUICE_VAL_CI'] },
        opts(),
      );
      expect(readFileSync(r.stdoutPath, 'utf8')).toBe('true undefined\n');
    } finally {
      delete process.env.SLUICE_VAL_CI;
      delete process.env.SLUICE_VAL_SECRET;
    }
  });

  it('a missing program fails with an error instead of passing', async () => {
    const r = await runValidation({ name: 'missing', argv: ['sluice-no-such-validator'], timeoutMs: 10_000 }, opts());
    expect(r.passed).toBe(false);
    expect(r.error).toMatch(/ENOENT/);
  });
});
