import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagedProcess, REPO_ROOT, runNode } from '../helpers/index.mjs';

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

describe('npm run demo -- --keep', () => {
  it('leaves the stack running with working connect instructions, and Ctrl-C stops it cleanly', async () => {
    const demo = new ManagedProcess('demo', [join(REPO_ROOT, 'scripts/demo.mjs'), '--keep'], { env: { ...process.env, NO_COLOR: '1' } });
    try {
      await demo.waitForOutput(/Press Ctrl-C to stop everything/, { timeoutMs: 90_000 });
      const m = /claude mcp add --transport http sluice (http:\/\/127\.0\.0\.1:\d+)\/mcp --header "Authorization: Bearer (slc_pat_[A-Za-z0-9]+)"/.exec(demo.output);
      expect(m).not.toBeNull();
      const res = await fetch(`${m![1]}/api/v2/instances.list`, { method: 'POST', headers: { authorization: `Bearer ${m![2]}`, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { instances: Array<{ online: boolean }> }).instances[0]?.online).toBe(true);
      demo.child.kill('SIGINT');
      const exit = await demo.exited;
      expect(exit.code).toBe(0);
      expect(demo.output).toContain('daemon stopped cleanly on SIGTERM');
      expect(demo.output).toMatch(/All \d+ checks held/);
    } finally {
      await demo.stop();
    }
  }, 120_000);
});
