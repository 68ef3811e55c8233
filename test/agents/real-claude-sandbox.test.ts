// The real Claude Code CLI as a Sluice executor inside the sandbox: no network namespace of the test's own, no
// recording proxy; the sandbox's egress proxy is the only way out, and it allows the scripted model API (on
// loopback, named by ANTHROPIC_BASE_URL) and nothing else.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, requireBubblewrap } from '@sluice/test-kit';
import { AGENT_CLIS, binPath } from '../../scripts/agent-clis.mjs';
import { runRef } from '../../packages/daemon/src/git/refs.js';
import { EngineHarness } from '../../packages/daemon/test/helpers-exec/engine-harness.js';
import { anthropicMessagesApi } from './model-apis/anthropic-messages.js';
import type { ScriptedApi } from './model-apis/scripted-api.js';
import { locateAgentClis } from './real-cli-harness.js';

const located = locateAgentClis();
if ('fail' in located) throw new Error(located.fail);
const installDir = 'dir' in located ? located.dir : '';
const skip = requireBubblewrap();

describe.skipIf(!installDir || skip !== null)('claude-code in the sandbox (real CLI)', { timeout: 120_000 }, () => {
  let api: ScriptedApi;
  let h: EngineHarness;
  let tmp: string;

  beforeAll(async () => {
    api = await anthropicMessagesApi().start();
    tmp = mkdtempSync(join(tmpdir(), 'sluice-real-sandbox-'));
    const home = join(tmp, 'operator-home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    const claude = AGENT_CLIS.find((c) => c.id === 'claude')!;
    const entry = { adapter: 'claude-code', binary: binPath(installDir, claude), env: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY'], retries: 0 };
    h = new EngineHarness({ workspace: { executors: { agent: entry }, validations: {}, allowSimulationWithValidations: false } });
    await h.start({ env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, LANG: 'C.UTF-8', HOME: home, ANTHROPIC_BASE_URL: api.url, ANTHROPIC_API_KEY: 'scripted-key' } });
  }, 30_000);
  afterAll(async () => {
    await h?.cleanup();
    await api?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('completes a file edit, reaching its model API through the egress proxy only', async () => {
    const run = await h.call('runs.open', { workspaceId: 'demo', title: 'real claude in the sandbox' });
    api.script({ kind: 'write', path: '{{wt}}/greet.txt', content: 'hello from the sandbox\n' });
    const step = await h.call('steps.dispatch', { runId: run.runId, executor: 'agent', task: 'write greet.txt' });
    const attemptId = step.attempts[0]!.attemptId;
    const worktree = () => readFileSync(join(h.runtime.attempts, attemptId, 'pid'), 'utf8').split('\n')[1]!;
    api.rewrite = (s) => s.replace('{{wt}}', worktree());
    await h.settle(step.stepId);
    const a = h.store.getAttempt(attemptId)!;
    expect(a.state, `${a.failureCode}: ${a.summary}\n${await h.artifactText(attemptId, 'stderr').catch(() => '')}`).toBe('succeeded');
    expect(git(h.repo, 'show', `${runRef(run.runId)}:greet.txt`)).toBe('hello from the sandbox');
    expect(api.mainRequests().length).toBeGreaterThan(0);
    const events = h.store.listEvents({ runId: run.runId, limit: 10_000 }).filter((e) => e.attemptId === attemptId);
    expect(events.filter((e) => e.type === 'attempt.sandbox').map((e) => e.data)).toEqual([expect.objectContaining({ child: 'executor', mode: 'bwrap', hosts: [`127.0.0.1:${api.port}`] })]);
    // Claude's side traffic is switched off by the adapter; anything it still tried is on record here.
    const denied = events.filter((e) => e.type === 'attempt.network_denied').map((e) => e.data);
    expect(denied).toEqual([]);
  });
});
