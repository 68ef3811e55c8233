import { join } from 'node:path';
import { commandsOf, extra, taskEnv } from './agent-common.js';
import { claudeCodeAdapter } from './claude-code.js';
import { codexAdapter } from './codex.js';
import type { AdapterKind, ExecutorAdapter, Invocation, ParsedOutput } from './executor-types.js';
import { geminiAdapter } from './gemini.js';
import { clipSummary, lastLine } from './output-text.js';
import { SIMULATION_NOT_UNDERSTOOD_PREFIX } from './simulation-language.js';
import { SIMULATION_SCRIPT } from './simulation-script.js';

function plainOutput(stdout: string): ParsedOutput {
  return { log: stdout, summary: clipSummary(lastLine(stdout)), reportedFailure: null, authFailure: null, denied: [] };
}

/** Deterministic agent driven by the task text (docs/EXECUTORS.md): for demos and tests, a real child process. */
export const simulationAdapter: ExecutorAdapter = {
  kind: 'simulation',
  defaultBinary: null,
  builtinMinVersion: null,
  compat: null,
  auth: null,
  buildInvocation(_spec, ctx): Invocation {
    return { argv: [ctx.binaryPath, '-e', SIMULATION_SCRIPT], stdin: ctx.task, env: taskEnv(ctx) };
  },
  parseOutput(stdout) {
    const lines = stdout.split('\n');
    const s = [...lines].reverse().find((l) => l.startsWith('[sim] summary: '));
    const notUnderstood = lines.find((l) => l.startsWith(SIMULATION_NOT_UNDERSTOOD_PREFIX))?.slice(SIMULATION_NOT_UNDERSTOOD_PREFIX.length) ?? null;
    return { log: stdout, summary: clipSummary(s ? s.slice('[sim] summary: '.length) : lastLine(stdout)), reportedFailure: null, authFailure: null, denied: [], notUnderstood };
  },
};

/** The operator's own program: argv from config; the task in `SLUICE_TASK_FILE` and on stdin. */
export const commandAdapter: ExecutorAdapter = {
  kind: 'command',
  defaultBinary: null,
  builtinMinVersion: null,
  compat: null,
  auth: null,
  buildInvocation(spec, ctx) {
    const [, ...rest] = spec.argv ?? [];
    return { argv: [ctx.binaryPath, ...rest, ...extra(spec)], stdin: ctx.task, env: taskEnv(ctx) };
  },
  parseOutput: plainOutput,
};

const AIDER_FLAGS = ['--message-file', '--yes-always', '--no-auto-commits', '--no-dirty-commits', '--no-pretty', '--no-stream', '--no-check-update', '--no-gitignore', '--no-suggest-shell-commands', '--chat-history-file', '--input-history-file'];

/** Aider in message mode: no prompts, no auto-commits (Sluice commits), chat history kept out of the worktree. */
export const aiderAdapter: ExecutorAdapter = {
  kind: 'aider',
  defaultBinary: 'aider',
  builtinMinVersion: '0.50.0',
  // Tested against a fake only: aider cannot be installed where the real-CLI suite runs (no PyPI).
  compat: { testedRange: '>=0.86.1 <0.87.0', helpArgs: ['--help'], flags: AIDER_FLAGS },
  auth: { env: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY', 'DEEPSEEK_API_KEY'], files: [] },
  buildInvocation(spec, ctx) {
    return {
      argv: [
        ctx.binaryPath,
        '--message-file', ctx.taskFile,
        '--yes-always', '--no-auto-commits', '--no-dirty-commits', '--no-pretty', '--no-stream', '--no-check-update', '--no-gitignore',
        // Aider runs the shell commands it suggests under --yes-always; the policy allows all or none.
        ...(commandsOf(spec) === 'any' ? [] : ['--no-suggest-shell-commands']),
        '--chat-history-file', join(ctx.scratchDir, 'aider.chat.history.md'),
        '--input-history-file', join(ctx.scratchDir, 'aider.input.history'),
        ...extra(spec),
      ],
      stdin: '',
      env: taskEnv(ctx),
    };
  },
  parseOutput: plainOutput,
};

const ADAPTERS: Record<AdapterKind, ExecutorAdapter> = {
  simulation: simulationAdapter,
  command: commandAdapter,
  'claude-code': claudeCodeAdapter,
  codex: codexAdapter,
  aider: aiderAdapter,
  gemini: geminiAdapter,
};

/** The adapter for a kind. */
export function getAdapter(kind: AdapterKind): ExecutorAdapter {
  return ADAPTERS[kind];
}

export { claudeCodeAdapter, codexAdapter, geminiAdapter };
