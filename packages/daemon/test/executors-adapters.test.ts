import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutorError, getAdapter, inRange, inspectProgram, preflightExecutor } from '../src/executors/index.js';
import { isAlive } from './helpers-exec/proc.js';
import type { AdapterKind, ExecutorSpec } from '../src/executors/index.js';
import { buildChildEnv, spawnSupervised } from '../src/process/index.js';
import { fakePath, installFakeClis } from '@sluice/test-kit';

let dir: string;
let bin: string;
let wt: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-exec-'));
  bin = join(dir, 'bin');
  wt = join(dir, 'wt');
  mkdirSync(wt);
  mkdirSync(join(dir, 'scratch'));
  installFakeClis(bin);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(kind: AdapterKind, spec: Omit<ExecutorSpec, 'adapter'>, task: string, source: Record<string, string> = {}) {
  const adapter = getAdapter(kind);
  const full: ExecutorSpec = { adapter: kind, ...spec, env: [...(spec.env ?? []), 'FAKE_RECORD', 'FAKE_VERSION', 'FAKE_SUBTYPE'] };
  const env = buildChildEnv(full.env, {}, { PATH: fakePath(bin), HOME: dir, FAKE_RECORD: join(dir, 'record.json'), ...source });
  const pf = await preflightExecutor(adapter, full, env, wt);
  const taskFile = join(dir, 'scratch', 'task.md');
  writeFileSync(taskFile, task);
  const inv = adapter.buildInvocation(full, { task, worktree: wt, taskFile, scratchDir: join(dir, 'scratch'), binaryPath: pf.binaryPath });
  const p = spawnSupervised({ argv: inv.argv, cwd: wt, env: { ...env, ...inv.env }, stdin: inv.stdin, stdoutPath: join(dir, 'out'), stderrPath: join(dir, 'err'), outputCapBytes: 1 << 20, graceMs: 300 });
  const result = await p.done;
  const parsed = adapter.parseOutput(readFileSync(join(dir, 'out'), 'utf8'));
  let record: Record<string, unknown> = {};
  try {
    record = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // the simulation does not record
  }
  return { pf, inv, result, parsed, record, taskFile };
}

describe('executor adapters against fake CLIs', () => {
  it('claude-code: print mode with stream-json, prompt on stdin, result line is the summary', async () => {
    const r = await run('claude-code', { args: ['--model', 'sonnet'] }, 'fix the bug in src/math.js');
    expect(r.pf.version).toBe('2.1.197');
    expect(r.record.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'acceptEdits', '--disallowedTools', 'Bash', '--model', 'sonnet']);
    expect(r.record.stdin).toBe('fix the bug in src/math.js');
    expect(r.record.cwd).toBe(wt);
    expect(readFileSync(join(wt, 'claude-was-here.txt'), 'utf8')).toBe('fix the bug in src/math.js');
    expect(r.parsed.summary).toBe('Fixed add() to use +.');
    expect(r.parsed.reportedFailure).toBeNull();
    expect(r.parsed.log).toContain('assistant: I will fix the sign in add().');
    expect(r.parsed.log).toContain('tool: Edit src/math.js');
  });

  it('claude-code: an error result is reported as a failure even with exit 0', async () => {
    const r = await run('claude-code', {}, 'x', { FAKE_SUBTYPE: 'error_max_turns' });
    expect(r.result.exitCode).toBe(0);
    expect(r.parsed.reportedFailure).toMatch(/error_max_turns/);
  });

  it('codex: exec --json with the prompt on stdin, last agent message is the summary', async () => {
    const r = await run('codex', {}, '-rf everything? no: fix add()');
    expect(r.pf.version).toBe('0.171.0');
    const argv = r.record.argv as string[];
    expect(argv.slice(0, 4)).toEqual(['exec', '--json', '--sandbox', 'workspace-write']);
    expect(argv.at(-1)).toBe('-');
    expect(r.record.stdin).toBe('-rf everything? no: fix add()');
    expect(r.parsed.summary).toBe('Changed add() to return a + b.');
    expect(r.parsed.log).toContain('command: bash -lc ls (exit 0)');
    expect(r.parsed.reportedFailure).toBeNull();
  });

  it('aider: message mode without auto-commits, history files outside the worktree', async () => {
    const r = await run('aider', {}, 'rename foo to bar');
    expect(r.pf.version).toBe('0.86.1');
    const argv = r.record.argv as string[];
    expect(argv.slice(0, 2)).toEqual(['--message-file', r.taskFile]);
    expect(argv).toContain('--yes-always');
    expect(argv).toContain('--no-auto-commits');
    expect(argv[argv.indexOf('--chat-history-file') + 1]).toBe(join(dir, 'scratch', 'aider.chat.history.md'));
    expect(r.record.message).toBe('rename foo to bar');
    expect(r.parsed.summary).toBe('Applied edit to aider-was-here.txt');
  });

  it('gemini: headless with the task on stdin, never in argv (a leading dash is no flag), stream-json parsed', async () => {
    const task = '--yolo please, secret-plan-7f3a';
    const r = await run('gemini', {}, task);
    expect(r.pf.version).toBe('0.61.0');
    expect(r.record.argv).toEqual(['--output-format', 'stream-json', '--skip-trust', '--approval-mode', 'auto_edit']);
    expect(r.inv.argv.some((a) => a.includes('secret-plan-7f3a'))).toBe(false);
    expect(r.record.stdin).toBe(task);
    expect(readFileSync(join(wt, 'gemini-was-here.txt'), 'utf8')).toBe(task);
    expect(r.result.exitCode).toBe(0);
    expect(r.parsed.summary).toBe('Updated the function as requested.');
  });

  it('command: operator argv, task in SLUICE_TASK_FILE and on stdin, last line is the summary', async () => {
    const r = await run('command', { argv: ['my-agent', '--fast'], args: ['--x'] }, 'do the thing');
    expect(r.record.argv).toEqual(['--fast', '--x']);
    expect(r.record.stdin).toBe('do the thing');
    expect(r.record.taskFile).toBe('do the thing');
    expect(r.parsed.summary).toBe('my agent is done');
  });

  it('simulation: writes, deletes and binary files from the task text, stays inside the worktree', async () => {
    writeFileSync(join(wt, 'old.txt'), 'x');
    const task = [
      'fix the bug in src/math.js',
      'write src/math.js',
      '<<<',
      'export const add = (a, b) => a + b;',
      '>>>',
      'write-base64 img.bin',
      '<<<',
      Buffer.from([0, 255, 1]).toString('base64'),
      '>>>',
      'delete old.txt',
      'summary fixed add()',
    ].join('\n');
    const r = await run('simulation', {}, task);
    expect(r.result.exitCode).toBe(0);
    expect(readFileSync(join(wt, 'src/math.js'), 'utf8')).toBe('export const add = (a, b) => a + b;\n');
    expect([...readFileSync(join(wt, 'img.bin'))]).toEqual([0, 255, 1]);
    expect(() => readFileSync(join(wt, 'old.txt'))).toThrow();
    expect(r.parsed.summary).toBe('fixed add()');

    const bad = await run('simulation', {}, 'write ../escape.txt\n<<<\nx\n>>>');
    expect(bad.result.exitCode).toBe(2);
    const failing = await run('simulation', {}, 'fail tests are red');
    expect(failing.result.exitCode).toBe(1);
    expect(failing.parsed.summary).toBe('failed: tests are red');
  });

  it('a missing CLI fails preflight with EXECUTOR_NOT_FOUND, an old one with EXECUTOR_TOO_OLD', async () => {
    const env = buildChildEnv([], {}, { PATH: fakePath(join(dir, 'empty')) });
    const e1 = await preflightExecutor(getAdapter('claude-code'), { adapter: 'claude-code' }, env, wt).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ExecutorError);
    expect((e1 as ExecutorError).code).toBe('EXECUTOR_NOT_FOUND');
    const e2 = await preflightExecutor(getAdapter('command'), { adapter: 'command', argv: ['nope-agent'] }, env, wt).catch((e: unknown) => e);
    expect((e2 as ExecutorError).code).toBe('EXECUTOR_NOT_FOUND');

    const old = buildChildEnv(['FAKE_VERSION'], {}, { PATH: fakePath(bin), FAKE_VERSION: 'codex-cli 0.20.1' });
    const e3 = await preflightExecutor(getAdapter('codex'), { adapter: 'codex' }, old, wt).catch((e: unknown) => e);
    expect((e3 as ExecutorError).code).toBe('EXECUTOR_TOO_OLD');
    const cfgMin = buildChildEnv([], {}, { PATH: fakePath(bin) });
    const e4 = await preflightExecutor(getAdapter('claude-code'), { adapter: 'claude-code', minVersion: '3.0.0' }, cfgMin, wt).catch((e: unknown) => e);
    expect((e4 as ExecutorError).code).toBe('EXECUTOR_TOO_OLD');
    const unknown = buildChildEnv(['FAKE_VERSION'], {}, { PATH: fakePath(bin), FAKE_VERSION: 'dev build' });
    const e5 = await preflightExecutor(getAdapter('gemini'), { adapter: 'gemini' }, unknown, wt).catch((e: unknown) => e);
    expect((e5 as ExecutorError).code).toBe('EXECUTOR_VERSION_UNKNOWN');
  });

  it('a CLI whose --help lacks a flag the adapter needs fails preflight EXECUTOR_INCOMPATIBLE naming the flag', async () => {
    const env = buildChildEnv(['FAKE_HELP_DROP'], {}, { PATH: fakePath(bin), FAKE_HELP_DROP: '--skip-trust' });
    const e = await preflightExecutor(getAdapter('gemini'), { adapter: 'gemini' }, env, wt).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ExecutorError);
    expect((e as ExecutorError).code).toBe('EXECUTOR_INCOMPATIBLE');
    expect((e as ExecutorError).message).toContain('--skip-trust');
    const report = await inspectProgram(getAdapter('gemini'), { adapter: 'gemini' }, env, wt);
    expect(report.flags).toEqual({ found: ['--output-format', '--approval-mode', '--policy'], missing: ['--skip-trust'] });
  });

  it('codex flags are looked up in `codex exec --help`, where the adapter\'s mode is', async () => {
    const env = buildChildEnv(['FAKE_RECORD', 'FAKE_HELP_DROP'], {}, { PATH: fakePath(bin), FAKE_RECORD: join(dir, 'help.json'), FAKE_HELP_DROP: '--json' });
    const e = await preflightExecutor(getAdapter('codex'), { adapter: 'codex' }, env, wt).catch((err: unknown) => err);
    expect((e as ExecutorError).code).toBe('EXECUTOR_INCOMPATIBLE');
    expect((e as ExecutorError).message).toMatch(/lacks --json \(not in `codex exec --help`\)/);
  });

  it('a newer version than the tested range runs with a warning; the pinned version runs without', async () => {
    const newer = buildChildEnv(['FAKE_VERSION'], {}, { PATH: fakePath(bin), FAKE_VERSION: '2.9.0 (Claude Code)' });
    const pf = await preflightExecutor(getAdapter('claude-code'), { adapter: 'claude-code' }, newer, wt);
    expect(pf.version).toBe('2.9.0');
    expect(pf.warnings).toEqual([expect.stringContaining('2.9.0 is outside the versions the claude-code adapter is tested with (>=2.1.197 <2.2.0)')]);
    const pinned = await preflightExecutor(getAdapter('gemini'), { adapter: 'gemini' }, buildChildEnv([], {}, { PATH: fakePath(bin) }), wt);
    expect(pinned.warnings).toEqual([]);
  });

  it('the probe runs once per program: a changed binary is asked again', async () => {
    const counter = join(dir, 'calls');
    const cli = join(dir, 'counted', 'gemini');
    const write = (version: string) => {
      mkdirSync(dirname(cli), { recursive: true });
      writeFileSync(cli, `#!/bin/sh\necho "$@" >> '${counter}'\ncase "$1" in --version) echo ${version};; *) echo '--output-format --skip-trust --approval-mode --policy';; esac\n`, { mode: 0o755 });
    };
    write('0.61.0');
    const env = buildChildEnv([], {}, { PATH: `${dirname(cli)}:/usr/bin:/bin` });
    for (let i = 0; i < 3; i++) await preflightExecutor(getAdapter('gemini'), { adapter: 'gemini' }, env, wt);
    await Promise.all([1, 2, 3].map(() => preflightExecutor(getAdapter('gemini'), { adapter: 'gemini' }, env, wt)));
    expect(readFileSync(counter, 'utf8').trim().split('\n').sort()).toEqual(['--help', '--version']);
    rmSync(cli);
    write('0.62.0');
    const pf = await preflightExecutor(getAdapter('gemini'), { adapter: 'gemini' }, env, wt);
    expect(pf.version).toBe('0.62.0');
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('a CLI that does not answer --version within the bound fails EXECUTOR_PREFLIGHT_TIMEOUT, its group killed', async () => {
    const cli = join(dir, 'slow', 'claude');
    mkdirSync(dirname(cli));
    writeFileSync(cli, `#!/bin/sh\nsleep 30 &\necho $! > '${join(dir, 'sleeper')}'\nwait\n`, { mode: 0o755 });
    const env = buildChildEnv([], {}, { PATH: `${dirname(cli)}:/usr/bin:/bin` });
    const e = await preflightExecutor(getAdapter('claude-code'), { adapter: 'claude-code' }, env, wt, { timeoutMs: 300 }).catch((err: unknown) => err);
    expect((e as ExecutorError).code).toBe('EXECUTOR_PREFLIGHT_TIMEOUT');
    expect((e as ExecutorError).message).toMatch(/`claude --version` and `claude --help` did not answer within 0.3 s/);
    const sleeper = Number(readFileSync(join(dir, 'sleeper'), 'utf8'));
    expect(isAlive(sleeper)).toBe(false);
  });

  it('a CLI whose probe cannot start fails EXECUTOR_START_FAILED with the reason, never a guessed version', async () => {
    const cli = join(dir, 'broken', 'codex');
    mkdirSync(dirname(cli));
    writeFileSync(cli, '#!/nonexistent/interpreter\n', { mode: 0o755 });
    const env = buildChildEnv([], {}, { PATH: `${dirname(cli)}:/usr/bin:/bin` });
    const e = await preflightExecutor(getAdapter('codex'), { adapter: 'codex' }, env, wt).catch((err: unknown) => err);
    expect((e as ExecutorError).code).toBe('EXECUTOR_START_FAILED');
    expect((e as ExecutorError).message).toMatch(/codex could not be started for its preflight: spawn .*ENOENT/);
  });

  it('every pinned real CLI version is inside its adapter\'s tested range', () => {
    const pins = JSON.parse(readFileSync(new URL('../../../tools/agent-clis/package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const adapterOf: Record<string, AdapterKind> = { '@anthropic-ai/claude-code': 'claude-code', '@openai/codex': 'codex', '@google/gemini-cli': 'gemini' };
    for (const [pkg, version] of Object.entries(pins.dependencies)) {
      expect(inRange(version, getAdapter(adapterOf[pkg]!).compat!.testedRange), `${pkg}@${version}`).toBe(true);
    }
    expect(inRange('2.2.0', '>=2.1.197 <2.2.0')).toBe(false);
    expect(inRange('2.1.196', '>=2.1.197 <2.2.0')).toBe(false);
  });

  it('structured failures are reported: codex turn.failed, gemini error, claude without a result line', () => {
    const codex = getAdapter('codex').parseOutput(
      [JSON.stringify({ type: 'thread.started', thread_id: 't' }), JSON.stringify({ type: 'turn.failed', error: { message: 'stream disconnected before completion' } })].join('\n'),
    );
    expect(codex.reportedFailure).toBe('stream disconnected before completion');
    const gemini = getAdapter('gemini').parseOutput(JSON.stringify({ response: null, error: { type: 'ApiError', message: 'quota exceeded', code: 429 } }));
    expect(gemini.reportedFailure).toBe('quota exceeded');
    const claude = getAdapter('claude-code').parseOutput('{"type":"system","subtype":"init","session_id":"x"}\nnot json at all\n');
    expect(claude.reportedFailure).toMatch(/no result line/);
    expect(getAdapter('gemini').parseOutput('plain answer\n').summary).toBe('plain answer');
  });
});
