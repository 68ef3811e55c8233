// The real Claude Code, Codex and Gemini CLIs as Sluice executors: the real engine (SQLite ledger, git worktrees,
// artifacts) runs them through their adapters against the scripted model APIs, inside the network namespace and
// behind the recording proxy. Every assertion is on a side effect: the committed files, the ledger, the events.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRef } from '../../packages/daemon/src/git/refs.js';
import { EngineHarness } from '../../packages/daemon/test/helpers-exec/engine-harness.js';
import { git } from '@sluice/test-kit';
import { liveInGroup } from '../../packages/daemon/test/helpers-exec/proc.js';
import { CliBench, locateAgentClis } from './real-cli-harness.js';
import type { CliId } from './real-cli-harness.js';
import type { Turn } from './model-apis/scripted-api.js';

const located = locateAgentClis();
if ('fail' in located) throw new Error(located.fail);
const installDir = 'dir' in located ? located.dir : '';

const PROXY_NAMES = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'https_proxy', 'http_proxy', 'all_proxy', 'NO_PROXY', 'no_proxy'];

interface CliCase {
  adapter: 'claude-code' | 'codex' | 'gemini';
  /** Variables of the daemon's environment the entry passes through (values below), besides the proxy ones. */
  env: (api: string) => Record<string, string>;
  args?: (api: string) => string[];
  /** The command policy under test: a list where the CLI can enforce one, else "any". */
  commands: 'any' | string[];
  drop: 'headers' | 'connect';
  /** Gemini starts silently for 5-8 s, longer than a short idle timeout: its stall is not exercised here. */
  stall: boolean;
}

const codexProvider = (api: string) =>
  ['model="gpt-5.5"', 'model_provider="scripted"', 'model_providers.scripted.name="scripted"', `model_providers.scripted.base_url="${api}/v1"`, 'model_providers.scripted.env_key="OPENAI_API_KEY"', 'model_providers.scripted.wire_api="responses"'].flatMap((c) => ['-c', c]);

const CASES: Record<CliId, CliCase> = {
  claude: { adapter: 'claude-code', env: (api) => ({ ANTHROPIC_BASE_URL: api, ANTHROPIC_API_KEY: 'scripted-key' }), commands: ['node mark.js allowed'], drop: 'headers', stall: true },
  codex: { adapter: 'codex', env: () => ({ OPENAI_API_KEY: 'scripted-key' }), args: codexProvider, commands: 'any', drop: 'headers', stall: true },
  gemini: { adapter: 'gemini', env: (api) => ({ GEMINI_API_KEY: 'scripted-key', GOOGLE_GEMINI_BASE_URL: api }), commands: ['node mark.js allowed'], drop: 'connect', stall: false },
};

// The harness repository is an ES module package.
const MARK_JS = "import { writeFileSync } from 'node:fs';\nwriteFileSync(`marker-${process.argv[2]}.txt`, 'ran\\n');\n";

for (const [id, c] of Object.entries(CASES) as [CliId, CliCase][]) {
  describe.skipIf(!installDir)(`${id} through the Sluice engine (real CLI)`, { timeout: 120_000 }, () => {
    let bench: CliBench;
    let h: EngineHarness;
    let tmp: string;
    let runId: string;

    beforeAll(async () => {
      bench = await new CliBench(id, installDir).start();
      tmp = mkdtempSync(join(tmpdir(), 'sluice-real-daemon-'));
      const cliEnv = c.env(bench.api.url);
      const entry = { adapter: c.adapter, binary: bench.launcher(tmp), env: [...PROXY_NAMES, ...Object.keys(cliEnv)], args: c.args?.(bench.api.url), retries: 0, policy: { commands: c.commands } };
      const executors = { agent: entry, stalling: { ...entry, idleTimeout: '3s' }, ...(c.commands === 'any' ? {} : { nocommands: { ...entry, policy: {} } }) };
      // Unconfined: these CLIs run through a launcher that enters the test's own network namespace (nsenter), which
      // the sandbox's PID and network namespaces would hide; the sandbox has its own tests.
      h = new EngineHarness({ workspace: { executors, validations: {}, allowSimulationWithValidations: false, sandbox: 'off' } });
      h.writeRepoFile('mark.js', MARK_JS);
      git(h.repo, 'add', 'mark.js');
      git(h.repo, 'commit', '-q', '-m', 'mark.js');
      const source = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, LANG: 'C.UTF-8', TMPDIR: tmp, ...bench.proxy.env(), ...cliEnv };
      await h.start({ env: source });
      runId = (await h.call('runs.open', { workspaceId: 'demo', title: `real ${id}` })).runId;
    }, 30_000);
    afterAll(async () => {
      await h?.cleanup();
      await bench?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    const worktreeOf = (attemptId: string) => readFileSync(join(h.runtime.attempts, attemptId, 'pid'), 'utf8').split('\n')[1]!;
    /** Dispatches a step whose model answers with `turns`; `{{wt}}` in a turn is the attempt's worktree. */
    const dispatch = async (turns: Turn[], executor = 'agent') => {
      bench.api.reset();
      bench.proxy.attempts.length = 0;
      bench.api.script(...turns);
      const step = await h.call('steps.dispatch', { runId, executor, task: `scripted task for ${id}` });
      const attemptId = step.attempts[0]!.attemptId;
      bench.api.rewrite = (s) => s.replace('{{wt}}', worktreeOf(attemptId));
      return { stepId: step.stepId, attemptId };
    };
    const settled = async (d: { stepId: string; attemptId: string }) => {
      await h.settle(d.stepId);
      return h.store.getAttempt(d.attemptId)!;
    };
    const committed = (commit: string | null, path: string) => (commit ? git(h.repo, 'ls-tree', '--name-only', commit, path) : '');
    const expectNoEgress = () => expect(bench.proxy.attempts, 'the CLI tried to reach something other than its loopback API').toEqual([]);

    it('a file edit is committed and accepted onto the run branch', async () => {
      const d = await dispatch([{ kind: 'write', path: '{{wt}}/greet.txt', content: `hello from ${id}\n` }]);
      const a = await settled(d);
      expect(a.state, `${a.failureCode}: ${a.summary}`).toBe('succeeded');
      expect(git(h.repo, 'show', `${runRef(runId)}:greet.txt`)).toBe(`hello from ${id}`);
      const log = await h.artifactText(d.attemptId, 'log');
      expect(log).toMatch(/greet\.txt/);
      // The live events carry the parsed lines, not the raw stream (which stays in the stdout artifact).
      const live = h.store.listEvents({ runId, limit: 10_000 }).filter((e) => e.type === 'attempt.log' && e.attemptId === d.attemptId);
      const texts = live.flatMap((e) => (e.data as { lines: { stream: string; text: string }[] }).lines.filter((l) => l.stream === 'stdout').map((l) => l.text));
      expect(texts.some((t) => /^(tool: \w+|file change: add) .*greet\.txt/.test(t)), texts.join('\n')).toBe(true);
      expect(texts.filter((t) => t.startsWith('{'))).toEqual([]);
      expectNoEgress();
    });

    if (c.commands === 'any') {
      it('with commands "any" a command runs (its marker file is committed)', async () => {
        const d = await dispatch([{ kind: 'shell', command: 'node mark.js any' }]);
        const a = await settled(d);
        expect(a.state, await h.artifactText(d.attemptId, 'stderr')).toBe('succeeded');
        expect(committed(a.commit, 'marker-any.txt')).toBe('marker-any.txt');
        expectNoEgress();
      });
    } else {
      it('a command the policy allows runs; one it does not is denied, recorded and fails the attempt EXECUTOR_DENIED', async () => {
        const d = await dispatch([{ kind: 'shell', command: 'node mark.js allowed' }, { kind: 'shell', command: 'node mark.js denied' }]);
        const a = await settled(d);
        expect(committed(a.commit, 'marker-allowed.txt'), await h.artifactText(d.attemptId, 'stdout')).toBe('marker-allowed.txt');
        expect(committed(a.commit, 'marker-denied.txt')).toBe('');
        expect(a.state).toBe('failed');
        expect(a.failureCode).toBe('EXECUTOR_DENIED');
        expect(a.summary).toContain('node mark.js denied');
        const denied = h.store.listEvents({ runId, limit: 10_000 }).filter((e) => e.type === 'attempt.denied' && e.attemptId === d.attemptId);
        expect(denied.map((e) => (e.data as { count: number }).count)).toEqual([1]);
        expectNoEgress();
      });
    }

    it.skipIf(c.commands === 'any')('with no commands allowed (the default) a command does not run', async () => {
      const d = await dispatch([{ kind: 'shell', command: 'echo ran > marker-echo.txt' }], 'nocommands');
      const a = await settled(d);
      expect(a.commit, `${a.failureCode}: ${a.summary}`).not.toBeNull();
      expect(committed(a.commit, 'marker-echo.txt'), await h.artifactText(d.attemptId, 'stdout')).toBe('');
      expectNoEgress();
    });

    it('a refused key ends the attempt AUTH_FAILED with the CLI\'s own message', async () => {
      const a = await settled(await dispatch([{ kind: 'status', status: 401, message: 'scripted 401: invalid key', sticky: true }]));
      expect(a.state).toBe('failed');
      expect(a.failureCode, a.summary ?? '').toBe('AUTH_FAILED');
      expect(a.summary).toContain('scripted 401: invalid key');
      expectNoEgress();
    });

    it('a dropped stream that the CLI retries ends in success', async () => {
      const a = await settled(await dispatch([{ kind: 'drop', at: c.drop }, { kind: 'write', path: '{{wt}}/after-drop.txt', content: 'written after the retry\n' }]));
      expect(a.state, `${a.failureCode}: ${a.summary}`).toBe('succeeded');
      expect(committed(a.commit, 'after-drop.txt')).toBe('after-drop.txt');
      expectNoEgress();
    });

    it.skipIf(!c.stall)('a CLI that prints nothing for idleTimeout is stopped: STALLED', async () => {
      const d = await dispatch([{ kind: 'text', text: 'too late', delayMs: 60_000 }], 'stalling');
      const a = await settled(d);
      expect(a.state).toBe('failed');
      expect(a.failureCode).toBe('STALLED');
      expect(liveInGroup(Number(readFileSync(join(h.runtime.attempts, d.attemptId, 'pid'), 'utf8').split('\n')[0]))).toEqual([]);
    });

    it('a cancel mid-turn is recorded cancelled after the CLI exited', async () => {
      const d = await dispatch([{ kind: 'text', text: 'too late', delayMs: 60_000 }]);
      while (bench.api.mainRequests().length === 0 && h.store.getAttempt(d.attemptId)!.state !== 'failed') await new Promise((r) => setTimeout(r, 100));
      const pid = Number(readFileSync(join(h.runtime.attempts, d.attemptId, 'pid'), 'utf8').split('\n')[0]);
      await h.call('attempts.cancel', { attemptId: d.attemptId, reason: 'enough' });
      const a = h.store.getAttempt(d.attemptId)!;
      expect(a.state).toBe('cancelled');
      expect(a.failureCode).toBe('CANCELLED');
      expect(liveInGroup(pid)).toEqual([]);
    });
  });
}
