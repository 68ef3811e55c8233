// The real Claude Code, Codex and Gemini CLIs (pinned in tools/agent-clis, installed by
// scripts/install-agent-clis.mjs) against scripted model APIs on loopback, with no daemon in between. Every
// assertion is on a side effect (a file on disk, a command's marker file, an exit status), never on the agent's words.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliBench, locateAgentClis, makeWorkspace, readIfExists, removeWorkspace } from './real-cli-harness.js';
import type { CliId, CliRun, Workspace } from './real-cli-harness.js';
import type { Turn } from './model-apis/scripted-api.js';
import { netJailUnavailable } from './egress/net-jail.js';

const located = locateAgentClis();
if ('fail' in located) throw new Error(located.fail);
if ('skip' in located) console.warn(`real-clis: skipped: ${located.skip}`);
const installDir = 'dir' in located ? located.dir : '';
const NO_JAIL = netJailUnavailable();

/**
 * How each CLI is told to allow exactly one command. Codex has no allowlist under `exec` (its approval policy is
 * `never`): writeAllowOnePolicy gives it a `forbidden` prefix rule for the other command instead.
 */
const ALLOW_ONE_COMMAND: Record<CliId, (ws: Workspace) => string[]> = {
  claude: () => ['--permission-mode', 'acceptEdits', '--allowedTools', 'Bash(node mark.js allowed)'],
  codex: () => ['--sandbox', 'workspace-write'],
  gemini: (ws) => ['--approval-mode', 'default', '--policy', join(ws.home, 'allow-one.toml')],
};

type DropAt = 'connect' | 'headers' | 'event';

interface Ctx {
  bench: () => CliBench;
  fresh: () => Workspace;
  expectNoEgress: () => void;
  /** Drops the first turn's connection at `at`; the CLI must retry, write the next turn's file and exit 0. */
  expectDropRetried: (at: DropAt, env?: Record<string, string>) => Promise<void>;
}

/** How each CLI is told that the agent may run any command (never "skip all permissions": CI runs as root). */
const ANY_COMMAND: Record<CliId, string[] | undefined> = {
  claude: ['--permission-mode', 'acceptEdits', '--allowedTools', 'Bash'],
  codex: undefined,
  gemini: ['--approval-mode', 'yolo'],
};

function describeCli(id: CliId, extra: (ctx: Ctx) => void): void {
  describe.skipIf(!installDir)(`${id} (real CLI)`, { timeout: 120_000 }, () => {
    let bench: CliBench;
    const workspaces: Workspace[] = [];
    const fresh = () => {
      bench.api.reset();
      bench.proxy.attempts.length = 0;
      const ws = makeWorkspace();
      workspaces.push(ws);
      return ws;
    };
    beforeAll(async () => {
      bench = await new CliBench(id, installDir).start();
      if (bench.jailSkipped) console.warn(`real-clis: ${id} runs without a network namespace: ${bench.jailSkipped}`);
    }, 30_000);
    afterAll(async () => {
      await bench?.close();
      for (const ws of workspaces) removeWorkspace(ws);
    });

    const run = (ws: Workspace, turns: Turn[], opts: { args?: string[]; env?: Record<string, string>; prompt?: string } = {}) => {
      bench.api.script(...turns);
      return bench.run(ws, { prompt: opts.prompt ?? `scripted task for ${id}`, ...opts });
    };
    const expectNoEgress = () => expect(bench.proxy.attempts, 'the CLI tried to reach something other than its loopback API').toEqual([]);
    const explain = (r: CliRun) => `exit ${r.code}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`;

    it('a file edit lands on disk, and nothing leaves the machine', async () => {
      const ws = fresh();
      const r = await run(ws, [{ kind: 'write', path: join(ws.repo, 'greet.txt'), content: `hello from ${id}\n` }]);
      expect(r.code, explain(r)).toBe(0);
      expect(readIfExists(join(ws.repo, 'greet.txt'))).toBe(`hello from ${id}\n`);
      expect(bench.api.mainRequests().length).toBe(2);
      expectNoEgress();
    });

    it('a shell command the run allows actually runs', async () => {
      const ws = fresh();
      const args = ANY_COMMAND[id];
      const r = await run(ws, [{ kind: 'shell', command: 'node mark.js shell' }], { args });
      expect(r.code, explain(r)).toBe(0);
      expect(readIfExists(join(ws.repo, 'marker-shell.txt'))).toBe('ran\n');
      expectNoEgress();
    });

    it('an allowlisted command runs and any other command is denied (by their marker files)', async () => {
      const ws = fresh();
      writeAllowOnePolicy(id, ws);
      const r = await run(ws, [{ kind: 'shell', command: 'node mark.js allowed' }, { kind: 'shell', command: 'node mark.js denied' }], {
        args: ALLOW_ONE_COMMAND[id](ws),
      });
      expect(readIfExists(join(ws.repo, 'marker-allowed.txt')), explain(r)).toBe('ran\n');
      expect(readIfExists(join(ws.repo, 'marker-denied.txt')), explain(r)).toBeUndefined();
      expectNoEgress();
    });

    it('an API 401 ends the run with a non-zero exit and writes nothing', async () => {
      const ws = fresh();
      const env = id === 'claude' ? { CLAUDE_CODE_MAX_RETRIES: '0' } : undefined;
      const r = await run(ws, [{ kind: 'status', status: 401, message: 'scripted 401: invalid key', sticky: true }, { kind: 'write', path: join(ws.repo, 'never.txt'), content: 'x' }], { env });
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.signal).toBeNull();
      expect(readIfExists(join(ws.repo, 'never.txt'))).toBeUndefined();
      expectNoEgress();
    });

    it('an API 500 is retried and the run completes', async () => {
      const ws = fresh();
      const env = id === 'claude' ? { CLAUDE_CODE_MAX_RETRIES: '2' } : undefined;
      const r = await run(ws, [{ kind: 'status', status: 500, message: 'scripted 500' }, { kind: 'write', path: join(ws.repo, 'after-500.txt'), content: 'ok\n' }], { env });
      expect(r.code, explain(r)).toBe(0);
      expect(readIfExists(join(ws.repo, 'after-500.txt'))).toBe('ok\n');
      expectNoEgress();
    });

    it.skipIf(NO_JAIL !== null && process.env.CI !== 'true')('runs in a network namespace whose only interface is loopback', async () => {
      expect((await bench.inJail(['ip', '-o', 'link', 'show'])).trim().split('\n').map((l) => l.split(':')[1]?.trim())).toEqual(['lo']);
    });

    const expectDropRetried = async (at: DropAt, env?: Record<string, string>) => {
      const ws = fresh();
      const r = await run(ws, dropThenWrite(ws, at), { prompt: `drop at ${at}`, env });
      expect(r.code, explain(r)).toBe(0);
      expect(readIfExists(join(ws.repo, 'after-drop.txt'))).toBe('written after the retry\n');
      expectNoEgress();
    };

    extra({ bench: () => bench, fresh, expectNoEgress, expectDropRetried });
  });
}

function writeAllowOnePolicy(id: CliId, ws: Workspace): void {
  if (id === 'gemini') {
    const policy = ['[[rule]]', 'toolName = "run_shell_command"', 'commandPrefix = "node mark.js allowed"', 'decision = "allow"', 'priority = 100', ''].join('\n');
    writeFileSync(join(ws.home, 'allow-one.toml'), policy);
  }
  if (id === 'codex') {
    mkdirSync(join(ws.home, 'codex-home', 'rules'), { recursive: true });
    writeFileSync(join(ws.home, 'codex-home', 'rules', 'default.rules'), 'prefix_rule(pattern = ["node", "mark.js", "denied"], decision = "forbidden")\n');
  }
}

const dropThenWrite = (ws: Workspace, at: DropAt): Turn[] => [
  { kind: 'drop', at },
  { kind: 'write', path: join(ws.repo, 'after-drop.txt'), content: 'written after the retry\n' },
];

describeCli('claude', ({ expectDropRetried }) => {
  it('a stream dropped after its headers is retried and the run completes', () => expectDropRetried('headers', { CLAUDE_CODE_MAX_RETRIES: '2' }));
});

describeCli('codex', ({ expectDropRetried }) => {
  it('a stream dropped after its headers is retried and the run completes', () => expectDropRetried('headers'));
});

describeCli('gemini', ({ bench, fresh, expectNoEgress, expectDropRetried }) => {
  it('a stream dropped after its headers is not retried: exit 1, "[API Error: terminated]"', async () => {
    const ws = fresh();
    bench().api.script(...dropThenWrite(ws, 'headers'));
    const r = await bench().run(ws, { prompt: 'drop after headers' });
    expect(r.code).toBe(1);
    expect(readIfExists(join(ws.repo, 'after-drop.txt'))).toBeUndefined();
    expect(r.stdout).toContain('[API Error: terminated]');
    expectNoEgress();
  });

  it('a connection reset before any response is retried and the run completes', () => expectDropRetried('connect'));
});

describe.skipIf(!installDir)('the egress guard', () => {
  it('records and refuses a request that goes through the proxy (curl, inside the namespace)', async () => {
    const bench = await new CliBench('claude', installDir).start();
    try {
      // `.invalid` never resolves, and the proxy never forwards: the request reaches nothing but the recorder.
      const env = Object.entries(bench.proxy.env()).map(([k, v]) => `${k}=${v}`);
      await bench.inJail(['env', ...env, 'curl', '-s', '-m', '5', 'https://egress-probe.invalid/']);
      expect(bench.proxy.attempts).toEqual(['CONNECT egress-probe.invalid:443']);
    } finally {
      await bench.close();
    }
  });
});
