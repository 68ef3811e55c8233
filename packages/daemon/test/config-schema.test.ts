import { describe, expect, it } from 'vitest';
import { parseConfig, parseDuration } from '../src/index.js';

const workspace = { path: '/srv/repo', name: 'web' };

describe('config.json', () => {
  it('fills defaults, compiles durations to ms and freezes the result', () => {
    const c = parseConfig({
      cancelGrace: '10s',
      workspaces: {
        web: {
          ...workspace,
          executors: { mine: { adapter: 'command', argv: ['node', 'agent.js'], env: ['OPENAI_API_KEY'], timeout: '2h' } },
          validations: { test: { argv: ['npm', 'test'], timeout: '10m', env: ['CI'] } },
          approval: { policy: 'always', remote: true },
        },
      },
    });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 7433 });
    expect(c.cancelGrace).toBe(10_000);
    expect(c.workspaces['web']!.validations['test']!.timeout).toBe(600_000);
    expect(c.workspaces['web']!.executors['mine']!.timeout).toBe(7_200_000);
    expect(c.workspaces['web']!.worktreeRoot).toBeNull();
    expect(Object.isFrozen(c.workspaces['web']!.executors['mine']!.argv)).toBe(true);
    expect(() => {
      (c.workspaces['web']!.validations['test']!.argv as string[]).push('--evil');
    }).toThrow(TypeError);
    expect(parseDuration('250ms')).toBe(250);
  });

  it('caps artifacts at 16 MiB of diff and 64 MiB per attempt and keeps them 30 days unless configured', () => {
    expect(parseConfig({}).artifacts).toEqual({ diffLimit: 16 * 1024 ** 2, attemptLimit: 64 * 1024 ** 2, retention: 30 * 86_400_000 });
    expect(parseConfig({ artifacts: { diffLimit: '512KiB', retention: '7d' } }).artifacts).toEqual({ diffLimit: 512 * 1024, attemptLimit: 64 * 1024 ** 2, retention: 7 * 86_400_000 });
    for (const artifacts of [{ diffLimit: '16MB' }, { diffLimit: 1024 }, { attemptLimit: '-1MiB' }, { retention: '30' }, { keep: true }]) {
      expect(() => parseConfig({ artifacts })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    }
  });

  it.each([
    ['an unknown top-level key', { surprise: true }],
    ['an unknown workspace key', { workspaces: { web: { ...workspace, shell: 'bash' } } }],
    ['a validation given as a shell string', { workspaces: { web: { ...workspace, validations: { test: { argv: 'npm test' } } } } }],
    ['a duration without unit', { cancelGrace: '10' }],
    ['a command executor without argv', { workspaces: { web: { ...workspace, executors: { x: { adapter: 'command' } } } } }],
    ['argv on a non-command adapter', { workspaces: { web: { ...workspace, executors: { x: { adapter: 'claude-code', argv: ['sh'] } } } } }],
    ['an unknown adapter', { workspaces: { web: { ...workspace, executors: { x: { adapter: 'bash' } } } } }],
    ['a relative workspace path', { workspaces: { web: { ...workspace, path: 'repo' } } }],
    ['a path-like workspace id', { workspaces: { '../x': workspace } }],
    ['an env entry that is not a variable name', { workspaces: { web: { ...workspace, validations: { t: { argv: ['x'], env: ['A=B'] } } } } }],
    ['HOME as a pass-through name', { workspaces: { web: { ...workspace, executors: { c: { adapter: 'claude-code', env: ['HOME'] } } } } }],
    ['SLUICE_HOME as a pass-through name', { workspaces: { web: { ...workspace, validations: { t: { argv: ['x'], env: ['SLUICE_HOME'] } } } } }],
    ['an unknown policy key', { workspaces: { web: { ...workspace, executors: { c: { adapter: 'codex', policy: { network: true } } } } } }],
    ['a command list on a validation', { workspaces: { web: { ...workspace, validations: { t: { argv: ['x'], policy: { commands: ['npm test'] } } } } } }],
    ['a shell operator in a command prefix', { workspaces: { web: { ...workspace, executors: { c: { adapter: 'claude-code', policy: { commands: ['npm test && rm -rf /'] } } } } } }],
  ])('rejects %s with a clear message', (_name, raw) => {
    expect(() => parseConfig(raw)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining('config.json is not valid') }));
  });

  it('adds no executor by default; children get a scratch HOME unless the policy passes the operator\'s through', () => {
    const c = parseConfig({ workspaces: { web: { ...workspace, executors: { c: { adapter: 'claude-code', policy: { home: { passThrough: true } } }, x: { adapter: 'codex', policy: { commands: 'any' } } } } } });
    expect(parseConfig({ workspaces: { web: workspace } }).workspaces['web']!.executors).toEqual({});
    const sandboxDefaults = { filesystem: { read: [], write: [] }, network: {}, limits: { processes: 1024, memory: 8 * 1024 ** 3, openFiles: 4096 } };
    expect(c.workspaces['web']!.executors['c']!.policy).toEqual({ home: { passThrough: true }, commands: [], ...sandboxDefaults });
    expect(c.workspaces['web']!.executors['x']!.policy).toEqual({ home: { passThrough: false }, commands: 'any', ...sandboxDefaults });
    expect(c.workspaces['web']!.sandbox).toBe('on');
  });

  it('refuses the simulation executor next to a validation that runs worktree code, saying what to add', () => {
    const sim = { sim: { adapter: 'simulation' } };
    const raw = { workspaces: { web: { ...workspace, executors: sim, validations: { test: { argv: ['npm', 'test'] } } } } };
    expect(() => parseConfig(raw)).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/workspaces\.web\.allowSimulationWithValidations: the simulation executor "sim" .*validation "test".*add "allowSimulationWithValidations": true to this workspace.*"runsWorktreeCode": false/),
      }),
    );
    expect(parseConfig({ workspaces: { web: { ...raw.workspaces.web, allowSimulationWithValidations: true } } }).workspaces['web']!.allowSimulationWithValidations).toBe(true);
    const marked = { workspaces: { web: { ...workspace, executors: sim, validations: { lint: { argv: ['git', 'diff', '--check'], runsWorktreeCode: false } } } } };
    expect(parseConfig(marked).workspaces['web']!.validations['lint']!.runsWorktreeCode).toBe(false);
    expect(parseConfig({ workspaces: { web: { ...workspace, executors: { c: { adapter: 'codex', policy: { commands: 'any' } } }, validations: { test: { argv: ['npm', 'test'] } } } } }).workspaces['web']!.validations['test']!.runsWorktreeCode).toBe(true);
  });

  it.each([
    ['codex', 'no commands (the default)', {}],
    ['codex', 'only a list of commands', { commands: ['npm test'] }],
    ['aider', 'only a list of commands', { commands: ['npm test'] }],
    ['command', '"any" command', { commands: 'any' }],
  ])('refuses a command policy the %s adapter cannot enforce (%s), naming what it can', (adapter, what, policy) => {
    const raw = { workspaces: { web: { ...workspace, executors: { c: { adapter, ...(adapter === 'command' ? { argv: ['x'] } : {}), policy } } } } };
    expect(() => parseConfig(raw)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining(`workspaces.web.executors.c.policy.commands: the ${adapter} adapter cannot enforce ${what}`) }));
  });

  it('accepts the command policies each agent CLI can enforce', () => {
    const ok = { a: { adapter: 'claude-code', policy: { commands: ['npm test', 'npm run lint'] } }, b: { adapter: 'gemini', policy: { commands: 'any' } }, c: { adapter: 'codex', policy: { commands: 'any' } }, d: { adapter: 'aider' } };
    const c = parseConfig({ workspaces: { web: { ...workspace, executors: ok } } });
    expect(c.workspaces['web']!.executors['a']!.policy.commands).toEqual(['npm test', 'npm run lint']);
    expect(c.workspaces['web']!.executors['d']!.policy.commands).toEqual([]);
  });
});
