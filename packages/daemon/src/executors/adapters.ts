import { join } from 'node:path';
import type { AdapterKind, ExecutorAdapter, ExecutorSpec, InvocationContext, Invocation, ParsedOutput } from './executor-types.js';
import { clipSummary, jsonLines, lastLine, obj, str } from './output-text.js';
import { SIMULATION_SCRIPT } from './simulation-script.js';

const extra = (spec: ExecutorSpec): string[] => [...(spec.args ?? [])];
const taskEnv = (ctx: InvocationContext): Record<string, string> => ({
  SLUICE_TASK_FILE: ctx.taskFile,
  SLUICE_WORKTREE: ctx.worktree,
  ...(ctx.attemptId ? { SLUICE_ATTEMPT_ID: ctx.attemptId } : {}),
  ...(ctx.attemptNumber !== undefined ? { SLUICE_ATTEMPT_NUMBER: String(ctx.attemptNumber) } : {}),
});

function plainOutput(stdout: string): ParsedOutput {
  return { log: stdout, summary: clipSummary(lastLine(stdout)), reportedFailure: null };
}

/** Deterministic agent driven by the task text (docs/EXECUTORS.md): for demos and tests, a real child process. */
export const simulationAdapter: ExecutorAdapter = {
  kind: 'simulation',
  defaultBinary: null,
  builtinMinVersion: null,
  buildInvocation(_spec, ctx): Invocation {
    return { argv: [ctx.binaryPath, '-e', SIMULATION_SCRIPT], stdin: ctx.task, env: taskEnv(ctx) };
  },
  parseOutput(stdout) {
    const lines = stdout.split('\n');
    const s = [...lines].reverse().find((l) => l.startsWith('[sim] summary: '));
    return { log: stdout, summary: clipSummary(s ? s.slice('[sim] summary: '.length) : lastLine(stdout)), reportedFailure: null };
  },
};

/** The operator's own program: argv from config; the task in `SLUICE_TASK_FILE` and on stdin. */
export const commandAdapter: ExecutorAdapter = {
  kind: 'command',
  defaultBinary: null,
  builtinMinVersion: null,
  buildInvocation(spec, ctx) {
    const [, ...rest] = spec.argv ?? [];
    return { argv: [ctx.binaryPath, ...rest, ...extra(spec)], stdin: ctx.task, env: taskEnv(ctx) };
  },
  parseOutput: plainOutput,
};

/** Claude Code in print mode with stream-json output; the prompt goes on stdin. */
export const claudeCodeAdapter: ExecutorAdapter = {
  kind: 'claude-code',
  defaultBinary: 'claude',
  builtinMinVersion: '1.0.0',
  buildInvocation(spec, ctx) {
    return {
      argv: [ctx.binaryPath, '-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'acceptEdits', ...extra(spec)],
      stdin: ctx.task,
      env: taskEnv(ctx),
    };
  },
  parseOutput(stdout) {
    const log: string[] = [];
    let summary: string | null = null;
    let failure: string | null = null;
    for (const ev of jsonLines(stdout)) {
      const type = str(ev.type);
      if (type === 'system' && str(ev.subtype) === 'init') log.push(`session ${str(ev.session_id) ?? '?'} model ${str(ev.model) ?? '?'}`);
      else if (type === 'assistant') {
        const content = obj(ev.message)?.content;
        for (const part of Array.isArray(content) ? content : []) {
          const p = obj(part);
          if (!p) continue;
          if (p.type === 'text' && str(p.text)) log.push(`assistant: ${str(p.text)}`);
          else if (p.type === 'tool_use') log.push(`tool: ${str(p.name) ?? '?'}`);
        }
      } else if (type === 'result') {
        summary = str(ev.result);
        const subtype = str(ev.subtype) ?? 'unknown';
        if (ev.is_error === true || subtype !== 'success') failure = `claude reported ${subtype}${ev.is_error === true ? ' (is_error)' : ''}`;
        log.push(`result: ${subtype}, ${String(ev.num_turns ?? '?')} turn(s)`);
      }
    }
    if (summary === null && failure === null) failure = 'no result line in the claude stream-json output';
    return { log: log.join('\n') + (log.length ? '\n' : ''), summary: clipSummary(summary), reportedFailure: failure };
  },
};

/** Codex non-interactive mode with JSONL events; the prompt goes on stdin (`-`). */
export const codexAdapter: ExecutorAdapter = {
  kind: 'codex',
  defaultBinary: 'codex',
  builtinMinVersion: '0.44.0',
  buildInvocation(spec, ctx) {
    return { argv: [ctx.binaryPath, 'exec', '--json', '--sandbox', 'workspace-write', ...extra(spec), '-'], stdin: ctx.task, env: taskEnv(ctx) };
  },
  parseOutput(stdout) {
    const log: string[] = [];
    let summary: string | null = null;
    let failure: string | null = null;
    for (const ev of jsonLines(stdout)) {
      const type = str(ev.type);
      const item = obj(ev.item);
      if (type === 'item.completed' && item) {
        const kind = str(item.type);
        if (kind === 'agent_message') {
          summary = str(item.text);
          log.push(`agent: ${summary ?? ''}`);
        } else if (kind === 'command_execution') log.push(`command: ${str(item.command) ?? '?'} (exit ${String(item.exit_code ?? '?')})`);
        else if (kind === 'file_change') log.push(`file change`);
        else if (kind === 'reasoning') log.push(`reasoning: ${str(item.text) ?? ''}`);
      } else if (type === 'turn.failed') failure = str(obj(ev.error)?.message) ?? 'codex turn failed';
      else if (type === 'error') failure = str(ev.message) ?? 'codex error';
      else if (type === 'turn.completed') log.push('turn completed');
    }
    return { log: log.join('\n') + (log.length ? '\n' : ''), summary: clipSummary(summary), reportedFailure: failure };
  },
};

/** Aider in message mode: no prompts, no auto-commits (Sluice commits), chat history kept out of the worktree. */
export const aiderAdapter: ExecutorAdapter = {
  kind: 'aider',
  defaultBinary: 'aider',
  builtinMinVersion: '0.50.0',
  buildInvocation(spec, ctx) {
    return {
      argv: [
        ctx.binaryPath,
        '--message-file', ctx.taskFile,
        '--yes-always', '--no-auto-commits', '--no-dirty-commits', '--no-pretty', '--no-stream', '--no-check-update', '--no-gitignore',
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

/**
 * Gemini CLI in headless mode with JSON output. The task goes on stdin, never in argv (which every local account
 * can read): a piped stdin makes the CLI headless and is its input.
 */
export const geminiAdapter: ExecutorAdapter = {
  kind: 'gemini',
  defaultBinary: 'gemini',
  builtinMinVersion: '0.6.0',
  buildInvocation(spec, ctx) {
    return { argv: [ctx.binaryPath, '--output-format', 'json', '--approval-mode', 'auto_edit', ...extra(spec)], stdin: ctx.task, env: taskEnv(ctx) };
  },
  parseOutput(stdout) {
    const start = stdout.indexOf('{');
    if (start >= 0) {
      try {
        const v = obj(JSON.parse(stdout.slice(start)));
        if (v) {
          const err = obj(v.error);
          const response = str(v.response);
          return { log: `${response ?? ''}\n`, summary: clipSummary(response), reportedFailure: err ? (str(err.message) ?? 'gemini reported an error') : null };
        }
      } catch {
        // not the JSON envelope: fall back to plain text
      }
    }
    return plainOutput(stdout);
  },
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
