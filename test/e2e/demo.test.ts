import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runNode } from '../helpers/index.mjs';

describe('npm run demo', () => {
  it('runs the whole loop with real processes and exits 0 only when every check held', async () => {
    const res = await runNode(join(REPO_ROOT, 'scripts/demo.mjs'), [], { env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 90_000 });
    expect(res.stderr).toBe('');
    expect(res.code, res.stdout.slice(-3000)).toBe(0);
    expect(res.stdout).toMatch(/All \d+ checks held/);
    expect(res.stdout).not.toContain('✘');
    for (const story of [
      '`node test.js` fails before Sluice does anything',
      'validation gate passed',
      'approval gate is waiting',
      'the run branch fast-forwarded to the attempt commit',
      'diff artifact fetched by digest and its sha256 matches',
      'step 2 failed its validation',
      'the run branch did not move (git rev-parse)',
      'the attempt is cancelled',
      '`sluice audit verify`: the daemon audit chain is intact',
      '`sluice-relay audit verify`: the relay audit chain is intact',
      'daemon stopped cleanly on SIGTERM',
    ]) {
      expect(res.stdout).toContain(story);
    }
  }, 120_000);
});
