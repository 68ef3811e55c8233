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
import { AGENT_CLIS } from '../../scripts/agent-clis.mjs';
import { ExecutorConfig } from '../../packages/daemon/src/config/executor-config.js';
import { checkExecutor, getAdapter } from '../../packages/daemon/src/executors/index.js';
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
  /**
   * The idle timeout of the stall test: well past the CLI's silent startup (gemini prints nothing for 5-8 s, far
   * longer on a loaded machine), so the stall it sees is the model's, mid-turn.
   */
  idleTimeout: string;
}

const codexProvider = (api: string) =>
  ['model="gpt-5.5"', 'model_provider="scripted"', 'model_providers.scripted.name="scripted"', `model_providers.scripted.base_url="${api}/v1"`, 'model_providers.scripted.env_key="OPENAI_API_KEY"', 'model_providers.scripted.wire_api="responses"'].flatMap((c) => ['-c', c]);

const CASES: Record<CliId, CliCase> = {
  claude: { adapter: 'claude-code', env: (api) => ({ ANTHROPIC_BASE_URL: api, ANTHROPIC_API_KEY: 'scripted-key' }), commands: ['node mark.js allowed'], drop: 'headers', idleTimeout: '10s' },
  codex: { adapter: 'codex', env: () => ({ OPENAI_API_KEY: 'scripted-key' }), args: codexProvider, commands: 'any', drop: 'headers', idleTimeout: '10s' },
  gemini: { adapter: 'gemini', env: (api) => ({ GEMINI_API_KEY: 'scripted-key', GOOGLE_GEMINI_BASE_URL: api }), commands: ['node mark.js allowed'], drop: 'connect', idleTimeout: '30s' },
};

// The harness repository is an ES module package.
/** The step timeout of the refused-key test: seconds, where a CLI retrying a 401 for minutes would hit it. */
const AUTH_BOUND_MS = 45_000;

/** The CLI the parallel-attempts test runs (codex: light to start, and its "any" policy lets it run the command). */
const PARALLEL_CLI: CliId = 'codex';

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
      const executors = { agent: entry, stalling: { ...entry, idleTimeout: c.idleTimeout }, ...(c.commands === 'any' ? {} : { nocommands: { ...entry, policy: {} } }) };
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
    const dispatch = async (turns: Turn[], executor = 'agent', timeoutMs?: number) => {
      bench.api.reset();
      bench.proxy.attempts.length = 0;
      bench.api.script(...turns);
      const step = await h.call('steps.dispatch', { runId, executor, task: `scripted task for ${id}`, ...(timeoutMs ? { timeoutMs } : {}) });
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
        expect(a.deniedActions).toBe(1);
        expectNoEgress();
      });
    }

    if (c.commands !== 'any') it('with no commands allowed (the default) a command does not run', async () => {
      const d = await dispatch([{ kind: 'shell', command: 'echo ran > marker-echo.txt' }], 'nocommands');
      const a = await settled(d);
      expect(a.commit, `${a.failureCode}: ${a.summary}`).not.toBeNull();
      expect(committed(a.commit, 'marker-echo.txt'), await h.artifactText(d.attemptId, 'stdout')).toBe('');
      expectNoEgress();
    });

    it('a refused key ends the attempt AUTH_FAILED with the CLI\'s own message, well before a short step timeout', async () => {
      // A CLI that kept retrying the refused key (claude's default is minutes) would end TIMED_OUT instead.
      const a = await settled(await dispatch([{ kind: 'status', status: 401, message: 'scripted 401: invalid key', sticky: true }], 'agent', AUTH_BOUND_MS));
      expect(a.state, `${a.failureCode}: ${a.summary}`).toBe('failed');
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

    it('a CLI that prints nothing for idleTimeout while its model answers nothing is stopped: STALLED', async () => {
      const d = await dispatch([{ kind: 'text', text: 'too late', delayMs: 90_000 }], 'stalling');
      const a = await settled(d);
      expect(a.state).toBe('failed');
      expect(a.failureCode, a.summary ?? '').toBe('STALLED');
      expect(bench.api.mainRequests().length, 'the CLI stalled before it asked its model').toBeGreaterThan(0);
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

    it('the pinned CLI passes the compatibility contract: its version in the tested range, every needed flag in its help', async () => {
      const pinned = AGENT_CLIS.find((cli) => cli.id === id)!.version;
      const entry = ExecutorConfig.parse({ adapter: c.adapter, binary: bench.bin(), policy: { commands: c.commands } });
      const check = await checkExecutor('demo', 'agent', entry, { source: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, LANG: 'C.UTF-8', TMPDIR: tmp } });
      expect(check, check.message ?? '').toMatchObject({ status: 'ready', version: pinned, failureCode: null, warnings: [] });
      expect(check.capabilities.missing).toEqual([]);
      expect(check.capabilities.found).toEqual(getAdapter(c.adapter).compat!.flags);
    });

    if (id === PARALLEL_CLI) it('4 parallel attempts: each in its own worktree with its own CLI home, all pass, no cross-talk', async () => {
      bench.api.reset();
      bench.proxy.attempts.length = 0;
      // Each session's first request (named by the worktree in its body) gets the command; later ones a final text.
      const sessions = new Set<string>();
      bench.api.route = (raw) => {
        const wt = /wt-att_[0-9A-Z]{26}/.exec(raw)?.[0];
        if (!wt || sessions.has(wt)) return undefined;
        sessions.add(wt);
        return { kind: 'shell', command: 'printf "%s\\n" "$HOME" "$CODEX_HOME" > cli-home.txt' };
      };
      const step = await h.call('steps.dispatch', { runId, executor: 'agent', task: `parallel task for ${id}`, attempts: 4 });
      const settledStep = await h.settle(step.stepId);
      expect(settledStep.state).toBe('awaiting_approval');
      const attempts = step.attempts.map((x) => h.store.getAttempt(x.attemptId)!);
      expect(attempts.map((a) => `${a.state} ${a.failureCode ?? ''}`.trim())).toEqual(Array(4).fill('awaiting_approval'));
      expect(sessions.size).toBe(4);
      const homes = attempts.map((a) => {
        expect(git(h.repo, 'diff', '--name-only', a.baseCommit, a.commit!)).toBe('cli-home.txt');
        const [home, cliHome] = git(h.repo, 'show', `${a.commit}:cli-home.txt`).split('\n');
        expect(home).toBe(join(h.runtime.attempts, a.attemptId, 'home'));
        expect(cliHome).toBe(join(home!, '.codex'));
        return cliHome;
      });
      expect(new Set(homes).size).toBe(4);
      const chosen = attempts[2]!;
      const gate = settledStep.gates.find((g) => g.kind === 'approval' && g.status === 'pending')!;
      expect([...gate.candidates].sort()).toEqual(attempts.map((a) => a.attemptId).sort());
      await h.call('gates.approve', { gateId: gate.gateId, attemptId: chosen.attemptId });
      expect(git(h.repo, 'rev-parse', runRef(runId))).toBe(chosen.commit);
      expectNoEgress();
    });
  });
}
