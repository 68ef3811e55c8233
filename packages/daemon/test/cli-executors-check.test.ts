// `sluice executors check`: the real CLI binary against fake agent CLIs that print the real help texts.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorCheckReport } from '@sluice/shared-protocol';
import { fakePath, installFakeClis, makeRepo } from '@sluice/test-kit';
import { tempDir } from './core-fixtures.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const SECRET = 'sk-ant-never-printed-0123456789';

let root: string;
let home: string;
let bin: string;

function sluice(...args: string[]) {
  const env = { PATH: fakePath(bin), HOME: join(root, 'operator'), SLUICE_HOME: home, ANTHROPIC_API_KEY: SECRET, OPENAI_API_KEY: 'sk-openai-also-secret', FAKE_HELP_DROP: '--skip-trust', FAKE_VERSION: 'aider 0.90.2' };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeEach(() => {
  root = tempDir('sluice-check-');
  home = join(root, 'home');
  bin = join(root, 'bin');
  installFakeClis(bin);
  expect(sluice('init').code).toBe(0);
  const repo = makeRepo(join(root, 'repo'), { 'README.md': '# x\n' }).path;
  const executors = {
    claude: { adapter: 'claude-code', env: ['ANTHROPIC_API_KEY'] },
    codex: { adapter: 'codex', policy: { commands: 'any' } },
    gemini: { adapter: 'gemini', env: ['GEMINI_API_KEY', 'FAKE_HELP_DROP'] },
    aider: { adapter: 'aider', env: ['FAKE_VERSION'] },
    mine: { adapter: 'command', argv: ['nope-agent'] },
    sim: { adapter: 'simulation' },
  };
  writeFileSync(join(home, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 7433 }, workspaces: { web: { path: repo, name: 'web', executors } } }));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('sluice executors check', () => {
  it('reports per executor: status, binary, version, tested range, flags, auth readiness (names only), exit 1 when one cannot run', () => {
    const r = sluice('executors', 'check', '--json');
    expect(r.code, r.stderr).toBe(1);
    const report = ExecutorCheckReport.parse(JSON.parse(r.stdout));
    const by = Object.fromEntries(report.executors.map((c) => [c.executor, c]));
    expect(Object.keys(by)).toEqual(['claude', 'codex', 'gemini', 'aider', 'mine', 'sim']);
    expect(by.claude).toMatchObject({ workspaceId: 'web', adapter: 'claude-code', status: 'ready', binaryPath: join(bin, 'claude'), version: '2.1.197', testedRange: '>=2.1.197 <2.2.0', failureCode: null, warnings: [] });
    expect(by.claude!.capabilities.missing).toEqual([]);
    expect(by.claude!.auth.ready).toBe(true);
    expect(by.claude!.auth.env).toContainEqual({ name: 'ANTHROPIC_API_KEY', passed: true, present: true });
    expect(by.codex).toMatchObject({ status: 'ready', version: '0.171.0' });
    // The key is in the environment but the entry does not pass it: not ready, and the check says why.
    expect(by.codex!.auth.ready).toBe(false);
    expect(by.codex!.auth.env).toContainEqual({ name: 'OPENAI_API_KEY', passed: false, present: true });
    expect(by.codex!.auth.files).toEqual([{ path: '~/.codex/auth.json', present: false, used: false }]);
    expect(by.gemini).toMatchObject({ status: 'incompatible', failureCode: 'EXECUTOR_INCOMPATIBLE', capabilities: { found: ['--output-format', '--approval-mode', '--policy'], missing: ['--skip-trust'] } });
    expect(by.gemini!.message).toContain('lacks --skip-trust');
    expect(by.aider).toMatchObject({ status: 'untested-version', version: '0.90.2', failureCode: null });
    expect(by.aider!.warnings).toEqual([expect.stringContaining('outside the versions the aider adapter is tested with')]);
    expect(by.mine).toMatchObject({ status: 'not-found', failureCode: 'EXECUTOR_NOT_FOUND', binaryPath: null, testedRange: null, auth: { env: [], files: [], ready: null } });
    expect(by.sim).toMatchObject({ status: 'ready', binaryPath: process.execPath });
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('sk-openai');
  });

  it('prints a table with one row per executor, the reasons and warnings below it; --help explains it', () => {
    const r = sluice('executors', 'check', '--workspace', 'web');
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^WORKSPACE\s+EXECUTOR\s+ADAPTER\s+STATUS\s+VERSION\s+TESTED\s+FLAGS\s+AUTH\s+BINARY$/);
    expect(lines[1]).toMatch(/^web\s+claude\s+claude-code\s+ready\s+2\.1\.197\s+>=2\.1\.197 <2\.2\.0\s+all 6\s+ANTHROPIC_API_KEY\s+\S+\/claude$/);
    expect(lines.find((l) => /^web\s+gemini\s/.test(l))).toMatch(/incompatible .* missing --skip-trust/);
    expect(r.stdout).toMatch(/^web\/gemini: EXECUTOR_INCOMPATIBLE: gemini 0\.61\.0 lacks --skip-trust/m);
    expect(r.stdout).toMatch(/^web\/aider: warning: aider 0\.90\.2 is outside/m);
    expect(r.stdout).not.toContain(SECRET);
    expect(sluice('executors', 'check', '--workspace', 'nope').stderr).toMatch(/WORKSPACE_NOT_FOUND/);
    const help = sluice('executors', 'check', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--json/);
    expect(help.stdout).toMatch(/never values/);
  });

  it('warns about a workspace that runs unconfined, on each of its executors', () => {
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { workspaces: Record<string, Record<string, unknown>> };
    config.workspaces.web!.sandbox = 'off';
    writeFileSync(join(home, 'config.json'), JSON.stringify(config));
    const report = ExecutorCheckReport.parse(JSON.parse(sluice('executors', 'check', '--json').stdout));
    const sim = report.executors.find((c) => c.executor === 'sim')!;
    expect(sim.status).toBe('ready');
    expect(sim.warnings).toEqual([expect.stringContaining('runs its agents and validations unconfined ("sandbox": "off")')]);
    expect(sluice('executors', 'check').stdout).toMatch(/^web\/sim: warning: workspace web runs its agents and validations unconfined/m);
  });
});
