import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeId, git } from '@sluice/test-kit';
import { DIFF_PAGE_LINES, parseUnifiedDiff } from '../src/api/console/diff-view.js';
import { startTestDaemon, type TestDaemon } from './core-fixtures.js';

let d: TestDaemon | null = null;
afterEach(async () => {
  await d?.close();
  d = null;
});

const REPORT = {
  instanceId: fakeId('ins'),
  relay: 'https://relay.example',
  connected: true,
  since: '2026-01-01T00:00:00.000Z',
  shares: ['web'],
  lastError: null,
  nextRetryAt: null,
  stoppedAt: null,
  updatedAt: '2026-01-01T00:00:01.000Z',
};

describe('the console diff', () => {
  it('splits git diff output into files with their additions and deletions', () => {
    const files = parseUnifiedDiff(
      [
        'diff --git a/src/a.js b/src/a.js',
        'index 1..2 100644',
        '--- a/src/a.js',
        '+++ b/src/a.js',
        '@@ -1,2 +1,2 @@',
        ' keep',
        '-old',
        '+new',
        '+more',
        'diff --git a/gone.txt b/gone.txt',
        'deleted file mode 100644',
        '--- a/gone.txt',
        '+++ /dev/null',
        '@@ -1 +0,0 @@',
        '-bye',
        'diff --git a/old.md b/new.md',
        'similarity index 100%',
        'rename from old.md',
        'rename to new.md',
        '',
      ].join('\n'),
    );
    expect(files.map((f) => [f.path, f.status, f.additions, f.deletions, f.oldPath])).toEqual([
      ['src/a.js', 'modified', 2, 1, null],
      ['gone.txt', 'deleted', 0, 1, null],
      ['new.md', 'renamed', 0, 0, 'old.md'],
    ]);
  });

  it('pages a large file diff between the run base and a commit', async () => {
    d = await startTestDaemon();
    const run = await d.verb('runs.open', { workspaceId: 'web' });
    const lines = Array.from({ length: DIFF_PAGE_LINES + 50 }, (_, i) => `line ${i}`).join('\n');
    writeFileSync(join(d.repo.path, 'big.txt'), `${lines}\n`);
    git(d.repo.path, 'add', 'big.txt');
    git(d.repo.path, 'commit', '-qm', 'big');
    const head = git(d.repo.path, 'rev-parse', 'HEAD');
    d.store.setRunHead(run.body.runId, head, 'system:test');
    const first = await d.request('GET', `/api/v1/console/diff?runId=${run.body.runId}`);
    expect(first.status).toBe(200);
    const file = first.body.files.find((f: { path: string }) => f.path === 'big.txt');
    expect(file).toMatchObject({ status: 'added', additions: DIFF_PAGE_LINES + 50, deletions: 0, offset: 0, nextOffset: DIFF_PAGE_LINES });
    expect(file.lines).toHaveLength(DIFF_PAGE_LINES);
    const second = await d.request('GET', `/api/v1/console/diff?runId=${run.body.runId}&path=big.txt&offset=${DIFF_PAGE_LINES}`);
    expect(second.body.files[0].lines).toHaveLength(51);
    expect(second.body.files[0].lines.at(-1)).toBe(`+line ${DIFF_PAGE_LINES + 49}`);
    expect(second.body.files[0].nextOffset).toBeNull();
    expect((await d.request('GET', `/api/v1/console/diff?runId=${run.body.runId}&attemptId=att_x`)).status).toBe(400);
  });
});

describe('the console audit', () => {
  it('filters rows by action prefix and outcome, and says whether the chain verifies', async () => {
    d = await startTestDaemon();
    await d.verb('runs.open', { workspaceId: 'web' });
    await d.verb('runs.open', { workspaceId: 'nope' });
    const all = await d.request('GET', '/api/v1/console/audit?action=verb.runs.open');
    expect(all.body.rows.map((r: { outcome: string }) => r.outcome)).toEqual(['WORKSPACE_NOT_FOUND', 'ok']);
    expect(all.body.chain).toMatchObject({ ok: true, problems: [] });
    const failed = await d.request('GET', '/api/v1/console/audit?action=verb.&outcome=not_ok');
    expect(failed.body.rows).toHaveLength(1);
    const triggers = d.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'").all() as { name: string }[];
    for (const t of triggers) d.store.db.exec(`DROP TRIGGER "${t.name}"`);
    d.store.db.prepare("UPDATE audit SET actor = 'local:mallory' WHERE seq = 1").run();
    const broken = await d.request('GET', '/api/v1/console/audit');
    expect(broken.body.chain.ok).toBe(false);
  });
});

describe('the connector report', () => {
  it('is taken from the token holder, shown with the workspaces, and refused from a remote caller', async () => {
    d = await startTestDaemon();
    expect((await d.request('POST', '/api/v1/connector/report', { body: JSON.stringify({ ...REPORT, privateKey: 'x' }), headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await d.request('POST', '/api/v1/connector/report', { body: JSON.stringify(REPORT), headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const stale = { ...REPORT, connected: false, updatedAt: '2025-12-31T00:00:00.000Z' };
    await d.request('POST', '/api/v1/connector/report', { body: JSON.stringify(stale), headers: { 'content-type': 'application/json' } });
    const ws = await d.request('GET', '/api/v1/console/workspaces');
    expect(ws.body.connectors).toEqual([{ ...REPORT, receivedAt: expect.any(String) }]);
    expect(ws.body.workspaces[0]).toMatchObject({ workspaceId: 'web', sharedBy: [REPORT.instanceId], executorStatus: [{ name: 'sim', adapter: 'simulation', ok: true }] });
    const remote = await d.request('POST', '/api/v1/connector/report', { body: JSON.stringify(REPORT), headers: { 'content-type': 'application/json', 'x-sluice-shared-workspaces': 'web' } });
    expect(remote.status).toBeGreaterThanOrEqual(400);
  });
});
