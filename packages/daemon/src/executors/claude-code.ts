import { join } from 'node:path';
import { ParseState, liveLinesOf, commandsOf, extra, taskEnv, toolTarget } from './agent-common.js';
import type { ExecutorAdapter, ExecutorSpec } from './executor-types.js';
import { jsonLines, obj, str } from './output-text.js';

/** Claude Code's documented switches for telemetry, error reports, update checks and other side traffic. */
export const CLAUDE_QUIET_ENV: Readonly<Record<string, string>> = {
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_BUG_COMMAND: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
};

/** Claude retries a refused key 10 times with growing delays (minutes) unless told otherwise. */
const DEFAULT_RETRIES = 2;

/** `--allowedTools` / `--disallowedTools` for the entry's command policy; never `bypassPermissions`. */
function commandArgs(spec: ExecutorSpec): string[] {
  const commands = commandsOf(spec);
  if (commands === 'any') return ['--allowedTools', 'Bash'];
  if (commands.length === 0) return ['--disallowedTools', 'Bash'];
  return ['--allowedTools', ...commands.map((c) => `Bash(${c}:*)`)];
}

function isAuthError(ev: Record<string, unknown>): boolean {
  const status = ev.api_error_status ?? ev.error_status;
  return status === 401 || status === 403 || ev.error === 'authentication_failed';
}

/** Claude Code in print mode with stream-json output; the prompt goes on stdin. */
export const claudeCodeAdapter: ExecutorAdapter = {
  liveLines: (line) => liveLinesOf((out) => claudeCodeAdapter.parseOutput(out))(line),
  kind: 'claude-code',
  defaultBinary: 'claude',
  builtinMinVersion: '1.0.0',
  compat: { testedRange: '>=2.1.197 <2.2.0', helpArgs: ['--help'], flags: ['--print', '--output-format', '--verbose', '--permission-mode', '--allowedTools', '--disallowedTools'] },
  auth: { env: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'], files: ['.claude/.credentials.json'] },
  buildInvocation(spec, ctx) {
    return {
      argv: [ctx.binaryPath, '-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'acceptEdits', ...commandArgs(spec), ...extra(spec)],
      stdin: ctx.task,
      env: {
        ...taskEnv(ctx),
        ...CLAUDE_QUIET_ENV,
        CLAUDE_CODE_MAX_RETRIES: String(spec.retries ?? DEFAULT_RETRIES),
        ...(ctx.stateDir ? { CLAUDE_CONFIG_DIR: join(ctx.stateDir, '.claude') } : {}),
      },
    };
  },
  parseOutput(stdout) {
    const st = new ParseState();
    for (const ev of jsonLines(stdout)) {
      const type = str(ev.type);
      const subtype = str(ev.subtype);
      if (type === 'system' && subtype === 'init') st.log.push(`session ${str(ev.session_id) ?? '?'} model ${str(ev.model) ?? '?'}`);
      else if (type === 'system' && subtype === 'api_retry') {
        st.log.push(`retry ${String(ev.attempt ?? '?')}/${String(ev.max_retries ?? '?')}: API status ${String(ev.error_status ?? '?')} ${str(ev.error) ?? ''}`.trimEnd());
        if (isAuthError(ev)) st.auth ??= `the model API refused the credentials (status ${String(ev.error_status ?? '?')}, ${str(ev.error) ?? 'authentication_failed'})`;
      } else if (type === 'assistant') {
        const content = obj(ev.message)?.content;
        for (const part of Array.isArray(content) ? content : []) {
          const p = obj(part);
          if (p?.type === 'text' && str(p.text)) st.log.push(`assistant: ${str(p.text)}`);
          else if (p?.type === 'tool_use') st.log.push(`tool: ${str(p.name) ?? '?'} ${toolTarget(obj(p.input))}`.trimEnd());
        }
      } else if (type === 'user') toolErrors(st, ev);
      else if (type === 'result') parseResult(st, ev);
    }
    if (st.summary === null && st.failure === null) st.failure = 'no result line in the claude stream-json output';
    return st.result();
  },
};

/** Tool results the CLI sent back as errors: a command's non-zero exit ("Exit code 1") or a refusal. */
function toolErrors(st: ParseState, ev: Record<string, unknown>): void {
  const content = obj(ev.message)?.content;
  for (const part of Array.isArray(content) ? content : []) {
    const p = obj(part);
    if (p?.type !== 'tool_result' || p.is_error !== true) continue;
    const text = typeof p.content === 'string' ? p.content : JSON.stringify(p.content);
    st.log.push(`tool error: ${text.split('\n')[0] ?? ''}`);
  }
}

function parseResult(st: ParseState, ev: Record<string, unknown>): void {
  st.summary = str(ev.result);
  const subtype = str(ev.subtype) ?? 'unknown';
  if (ev.is_error === true || subtype !== 'success') st.failure = `claude reported ${subtype}${ev.is_error === true ? ' (is_error)' : ''}${st.summary ? `: ${st.summary}` : ''}`;
  if (ev.is_error === true && (isAuthError(ev) || /^Not logged in/.test(st.summary ?? ''))) st.auth = st.summary;
  for (const d of Array.isArray(ev.permission_denials) ? ev.permission_denials : []) {
    const denial = obj(d);
    st.deny(`${str(denial?.tool_name) ?? '?'}: ${toolTarget(obj(denial?.tool_input))}`);
  }
  st.log.push(`result: ${subtype}, ${String(ev.num_turns ?? '?')} turn(s)`);
}
