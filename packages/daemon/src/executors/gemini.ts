import { join } from 'node:path';
import { ParseState, liveLinesOf, commandsOf, extra, taskEnv, toolTarget } from './agent-common.js';
import type { ExecutorAdapter, ExecutorSpec, InvocationContext, Invocation } from './executor-types.js';
import { jsonLines, lastLine, obj, str } from './output-text.js';

/** Gemini CLI: telemetry off by env; usage statistics and update checks off in its settings. */
export const GEMINI_QUIET_ENV: Readonly<Record<string, string>> = { GEMINI_TELEMETRY_ENABLED: 'false' };

function settings(spec: ExecutorSpec): Record<string, unknown> {
  return {
    // With GOOGLE_GEMINI_BASE_URL and no selected auth type the CLI picks `gateway`, which headless mode refuses.
    ...(spec.env?.includes('GEMINI_API_KEY') ? { security: { auth: { selectedType: 'gemini-api-key' } } } : {}),
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  };
}

/** A policy file allowing the edit tools and each listed command prefix; everything else is denied headless. */
function policyToml(commands: readonly string[]): string {
  const rule = (fields: string[]) => ['[[rule]]', ...fields, 'decision = "allow"', 'priority = 100', ''].join('\n');
  const edits = ['write_file', 'replace'].map((t) => rule([`toolName = "${t}"`]));
  const shell = commands.map((c) => rule(['toolName = "run_shell_command"', `commandPrefix = ${JSON.stringify(c)}`]));
  return [...edits, ...shell].join('\n');
}

/** `--approval-mode` (and `--policy`) for the entry's command policy: `auto_edit` offers no shell tool at all. */
function approval(spec: ExecutorSpec, ctx: InvocationContext, files: NonNullable<Invocation['files']>): string[] {
  const commands = commandsOf(spec);
  if (commands === 'any') return ['--approval-mode', 'yolo'];
  if (commands.length === 0) return ['--approval-mode', 'auto_edit'];
  const path = join(ctx.scratchDir, 'gemini-policy.toml');
  files.push({ path, content: policyToml(commands) });
  return ['--approval-mode', 'default', '--policy', path];
}

const AUTH = /UNAUTHENTICATED|"code":\s*401|Invalid auth method/;

/** The JSON error envelope the CLI prints on stderr (`{"session_id":…,"error":{…}}`), or a known fatal line. */
function stderrError(stderr: string): string | null {
  for (const ev of jsonLines(stderr).reverse()) {
    const msg = str(obj(ev.error)?.message);
    if (msg) return msg;
  }
  const trust = stderr.split('\n').find((l) => l.includes('not running in a trusted directory'));
  return trust?.trim() ?? null;
}

/** The whole-document `--output-format json` envelope `{response, stats, error}`, when an entry's args ask for it. */
function jsonEnvelope(st: ParseState, stdout: string): boolean {
  const start = stdout.indexOf('{');
  if (start < 0) return false;
  try {
    const v = obj(JSON.parse(stdout.slice(start)));
    if (!v || !('response' in v || 'error' in v)) return false;
    st.summary = str(v.response);
    if (st.summary) st.log.push(`assistant: ${st.summary}`);
    const err = obj(v.error);
    if (err) st.failure = str(err.message) ?? 'gemini reported an error';
    return true;
  } catch {
    return false;
  }
}

function streamEvents(st: ParseState, stdout: string): void {
  const events = jsonLines(stdout);
  // Not JSON at all (an entry's args chose `text`): the last line is the summary.
  if (events.length === 0) st.summary = lastLine(stdout);
  const tools = new Map<string, string>();
  let text = '';
  const flushText = () => {
    if (text) st.log.push(`assistant: ${text}`);
    if (text) st.summary = text;
    text = '';
  };
  for (const ev of events) {
    const type = str(ev.type);
    if (type === 'message' && ev.role === 'assistant') text += str(ev.content) ?? '';
    else {
      flushText();
      if (type === 'init') st.log.push(`session ${str(ev.session_id) ?? '?'} model ${str(ev.model) ?? '?'}`);
      else if (type === 'tool_use') {
        const line = `${str(ev.tool_name) ?? '?'} ${toolTarget(obj(ev.parameters))}`.trimEnd();
        tools.set(str(ev.tool_id) ?? '', line);
        st.log.push(`tool: ${line}`);
      } else if (type === 'tool_result') {
        const err = obj(ev.error);
        if (str(err?.type) === 'policy_violation') st.deny(tools.get(str(ev.tool_id) ?? '') ?? 'a tool call');
        else if (ev.status === 'error') st.log.push(`tool error: ${str(err?.message) ?? str(ev.output) ?? ''}`);
      } else if (type === 'result') {
        const err = obj(ev.error);
        if (ev.status !== 'success') st.failure = str(err?.message) ?? `gemini reported ${str(ev.status) ?? 'an error'}`;
        st.log.push(`result: ${str(ev.status) ?? '?'}`);
      }
    }
  }
  flushText();
}

/**
 * Gemini CLI in headless mode with stream-json output. The task goes on stdin, never in argv (which every local
 * account can read): a piped stdin makes the CLI headless and is its input. `--skip-trust`: every attempt runs in
 * a new worktree, which the CLI would otherwise refuse as untrusted (exit 55).
 */
export const geminiAdapter: ExecutorAdapter = {
  liveLines: (line) => liveLinesOf((out) => geminiAdapter.parseOutput(out))(line),
  kind: 'gemini',
  defaultBinary: 'gemini',
  builtinMinVersion: '0.6.0',
  compat: { testedRange: '>=0.61.0 <0.62.0', helpArgs: ['--help'], flags: ['--output-format', '--skip-trust', '--approval-mode', '--policy'] },
  auth: { env: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS'], files: ['.gemini/oauth_creds.json'] },
  buildInvocation(spec, ctx) {
    const files: NonNullable<Invocation['files']> = [];
    if (ctx.stateDir) files.push({ path: join(ctx.stateDir, '.gemini', 'settings.json'), content: `${JSON.stringify(settings(spec), null, 2)}\n` });
    const argv = [ctx.binaryPath, '--output-format', 'stream-json', '--skip-trust', ...approval(spec, ctx, files), ...extra(spec)];
    return { argv, stdin: ctx.task, env: { ...taskEnv(ctx), ...GEMINI_QUIET_ENV, ...(ctx.stateDir ? { GEMINI_CLI_HOME: ctx.stateDir } : {}) }, files };
  },
  parseOutput(stdout, stderr = '') {
    const st = new ParseState();
    if (!jsonEnvelope(st, stdout)) streamEvents(st, stdout);
    // stderr carries the error envelope only when the run did not end in a success result.
    const fromStderr = st.log.includes('result: success') ? null : stderrError(stderr);
    if (fromStderr) {
      st.failure ??= fromStderr;
      st.log.push(`error: ${fromStderr}`);
    }
    if (st.failure && AUTH.test(st.failure)) st.auth = st.failure;
    else if (fromStderr && AUTH.test(fromStderr)) st.auth = fromStderr;
    return st.result();
  },
};
