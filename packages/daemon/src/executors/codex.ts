import { join } from 'node:path';
import { ParseState, liveLinesOf, extra, taskEnv } from './agent-common.js';
import type { ExecutorAdapter } from './executor-types.js';
import { jsonLines, lastLine, obj, str } from './output-text.js';

/**
 * `-c` overrides that keep codex quiet: no update check, no analytics or feedback upload, and no plugin or app
 * sync (which reaches github.com, api.github.com and chatgpt.com at startup).
 */
export const CODEX_QUIET_CONFIG: readonly string[] = [
  'check_for_update_on_startup=false',
  'analytics.enabled=false',
  'feedback.enabled=false',
  'features.plugins=false',
  'features.remote_plugin=false',
  'features.apps=false',
];

const AUTH_STATUS = /unexpected status (401|403)\b/;
/** codex's exec-policy refusal, printed only on stderr: `Rejected("<what> rejected: <why>")`. */
const REJECTED = /Rejected\(\\?"(.*?)\\?"\)/;

function describeItem(st: ParseState, item: Record<string, unknown>): void {
  const kind = str(item.type);
  if (kind === 'agent_message') {
    st.summary = str(item.text);
    st.log.push(`agent: ${st.summary ?? ''}`);
  } else if (kind === 'command_execution') st.log.push(`command: ${str(item.command) ?? '?'} (exit ${String(item.exit_code ?? '?')})`);
  else if (kind === 'file_change') {
    const changes = Array.isArray(item.changes) ? item.changes.map(obj) : [];
    st.log.push(`file change: ${changes.map((c) => `${str(c?.kind) ?? '?'} ${str(c?.path) ?? '?'}`).join(', ')}`);
  } else if (kind === 'reasoning') st.log.push(`reasoning: ${str(item.text) ?? ''}`);
  else if (kind === 'mcp_tool_call') st.log.push(`mcp: ${str(item.server) ?? '?'}.${str(item.tool) ?? '?'} (${str(item.status) ?? '?'})`);
  else if (kind === 'error') st.log.push(`error: ${str(item.message) ?? ''}`);
}

/** Codex non-interactive mode with JSONL events; the prompt goes on stdin (`-`). */
export const codexAdapter: ExecutorAdapter = {
  liveLines: (line) => liveLinesOf((out) => codexAdapter.parseOutput(out))(line),
  kind: 'codex',
  defaultBinary: 'codex',
  builtinMinVersion: '0.44.0',
  compat: { testedRange: '>=0.171.0 <0.172.0', helpArgs: ['exec', '--help'], flags: ['--json', '--sandbox', '--config'] },
  auth: { env: ['OPENAI_API_KEY', 'CODEX_API_KEY'], files: ['.codex/auth.json'] },
  buildInvocation(spec, ctx) {
    const overrides = CODEX_QUIET_CONFIG.flatMap((c) => ['-c', c]);
    const home = ctx.stateDir ? join(ctx.stateDir, '.codex') : null;
    return {
      argv: [ctx.binaryPath, 'exec', '--json', '--sandbox', 'workspace-write', ...overrides, ...extra(spec), '-'],
      stdin: ctx.task,
      env: { ...taskEnv(ctx), ...(home ? { CODEX_HOME: home } : {}) },
      dirs: home ? [home] : [],
    };
  },
  parseOutput(stdout, stderr = '') {
    const st = new ParseState();
    const events = jsonLines(stdout);
    // codex fails before its first event (a bad config, a missing CODEX_HOME) with its reason on stderr only.
    if (events.length === 0) st.failure = lastLine(stderr.split('\n').filter((l) => !l.startsWith('WARNING:')).join('\n'));
    // An `error` event is not final: codex prints one per retry ("Reconnecting... 1/5") and may still complete.
    let lastError: string | null = null;
    for (const ev of events) {
      const type = str(ev.type);
      const item = obj(ev.item);
      if (type === 'item.completed' && item) describeItem(st, item);
      else if (type === 'error') {
        lastError = str(ev.message) ?? 'codex error';
        st.log.push(`${lastError.startsWith('Reconnecting') ? 'retry' : 'error'}: ${lastError}`);
      } else if (type === 'turn.failed') {
        st.failure = str(obj(ev.error)?.message) ?? lastError ?? 'codex turn failed';
        st.log.push(`turn failed: ${st.failure}`);
      } else if (type === 'turn.completed') {
        lastError = null;
        st.log.push('turn completed');
      }
    }
    st.failure ??= lastError;
    if (st.failure && AUTH_STATUS.test(st.failure)) st.auth = st.failure;
    for (const line of stderr.split('\n')) {
      const m = REJECTED.exec(line);
      if (m) st.deny(m[1]!.replace(/\\"/g, '"'));
    }
    return st.result();
  },
};
