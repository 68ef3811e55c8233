// The adapters' parsers fed with lines the real CLIs printed (docs/EXECUTORS.md, "The real CLIs, observed"):
// denials, retried streams, refused credentials, errors that only reach stderr.
import { describe, expect, it } from 'vitest';
import { executorFailure, getAdapter } from '../src/executors/index.js';
import type { AdapterKind } from '../src/executors/index.js';
import type { ProcessResult } from '../src/process/index.js';

const lines = (...evs: unknown[]) => evs.map((e) => JSON.stringify(e)).join('\n') + '\n';
const exited = (exitCode: number, extra: Partial<ProcessResult> = {}): ProcessResult => ({
  exitCode, signal: null, timedOut: false, cancelled: false, stalled: false, killed: false, spawnError: null,
  stdoutBytes: 0, stderrBytes: 0, stdoutTruncated: false, stderrTruncated: false, durationMs: 1, ...extra,
});
const outcome = (kind: AdapterKind, code: number, stdout: string, stderr = '') => {
  const parsed = getAdapter(kind).parseOutput(stdout, stderr);
  return { parsed, failure: executorFailure(exited(code), parsed, {}) };
};

const CLAUDE_INIT = { type: 'system', subtype: 'init', session_id: 's1', model: 'claude-opus-4-8' };

describe('claude-code output', () => {
  it('permission_denials in a "success" result are recorded and fail the attempt EXECUTOR_DENIED', () => {
    const stdout = lines(
      CLAUDE_INIT,
      { type: 'assistant', message: { content: [{ type: 'tool_use', id: 'toolu_6', name: 'Bash', input: { command: 'node mark.js denied', description: 'x' } }] } },
      { type: 'user', message: { content: [{ type: 'tool_result', content: 'This command requires approval', is_error: true, tool_use_id: 'toolu_6' }] }, tool_use_result: 'Error: This command requires approval' },
      { type: 'result', subtype: 'success', is_error: false, num_turns: 2, result: 'done', permission_denials: [{ tool_name: 'Bash', tool_use_id: 'toolu_6', tool_input: { command: 'node mark.js denied', description: 'x' } }] },
    );
    const { parsed, failure } = outcome('claude-code', 0, stdout);
    expect(parsed.denied).toEqual(['Bash: node mark.js denied']);
    expect(parsed.log).toContain('tool: Bash node mark.js denied');
    expect(parsed.log).toContain('denied: Bash: node mark.js denied');
    expect(failure).toEqual({ code: 'EXECUTOR_DENIED', summary: 'the agent was denied 1 action(s) its policy does not allow: Bash: node mark.js denied' });
  });

  it('a 401 is AUTH_FAILED with the CLI\'s own message; its api_retry lines are logged', () => {
    const stdout = lines(
      CLAUDE_INIT,
      { type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 2, retry_delay_ms: 557, error_status: 401, error: 'authentication_failed' },
      { type: 'result', subtype: 'success', is_error: true, api_error_status: 401, result: 'Failed to authenticate. API Error: 401 scripted 401: invalid key' },
    );
    const { parsed, failure } = outcome('claude-code', 1, stdout);
    expect(parsed.log).toContain('retry 1/2: API status 401 authentication_failed');
    expect(failure).toEqual({ code: 'AUTH_FAILED', summary: 'Failed to authenticate. API Error: 401 scripted 401: invalid key' });
  });

  it('"Not logged in" is AUTH_FAILED; a 500 that was retried is not', () => {
    expect(outcome('claude-code', 1, lines({ type: 'result', subtype: 'success', is_error: true, result: 'Not logged in · Please run /login' })).failure?.code).toBe('AUTH_FAILED');
    const retried = lines({ type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 2, error_status: 500, error: 'server_error' }, { type: 'result', subtype: 'success', is_error: false, result: 'ok' });
    expect(outcome('claude-code', 0, retried).failure).toBeNull();
  });

  it('passes the retry knob, the quiet switches, a per-attempt CLAUDE_CONFIG_DIR, and maps commands to --allowedTools', () => {
    const ctx = { task: 't', worktree: '/w', taskFile: '/s/task.md', scratchDir: '/s', binaryPath: '/bin/claude', stateDir: '/s/home' };
    const a = getAdapter('claude-code');
    const none = a.buildInvocation({ adapter: 'claude-code' }, ctx);
    expect(none.argv).toEqual(['/bin/claude', '-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'acceptEdits', '--disallowedTools', 'Bash']);
    expect(none.env).toMatchObject({ CLAUDE_CODE_MAX_RETRIES: '2', CLAUDE_CONFIG_DIR: '/s/home/.claude', DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
    const list = a.buildInvocation({ adapter: 'claude-code', commands: ['npm test', 'node mark.js allowed'], retries: 0 }, { ...ctx, stateDir: null });
    expect(list.argv.slice(7)).toEqual(['--allowedTools', 'Bash(npm test:*)', 'Bash(node mark.js allowed:*)']);
    expect(list.env.CLAUDE_CODE_MAX_RETRIES).toBe('0');
    expect(list.env.CLAUDE_CONFIG_DIR).toBeUndefined();
    expect(a.buildInvocation({ adapter: 'claude-code', commands: 'any' }, ctx).argv).toContain('Bash');
    expect(a.buildInvocation({ adapter: 'claude-code', commands: 'any' }, ctx).argv).not.toContain('bypassPermissions');
  });
});

describe('codex output', () => {
  it('an error "Reconnecting... 1/5" followed by turn.completed, exit 0, is a success', () => {
    const stdout = lines(
      { type: 'thread.started', thread_id: 't' },
      { type: 'turn.started' },
      { type: 'error', message: 'Reconnecting... 1/5 (stream disconnected before completion: Transport error: network error: error decoding response body)' },
      { type: 'item.completed', item: { id: 'item_1', type: 'file_change', changes: [{ path: '/w/after-drop.txt', kind: 'add' }], status: 'completed' } },
      { type: 'item.completed', item: { id: 'item_2', type: 'agent_message', text: 'done' } },
      { type: 'turn.completed', usage: {} },
    );
    const { parsed, failure } = outcome('codex', 0, stdout);
    expect(failure).toBeNull();
    expect(parsed.summary).toBe('done');
    expect(parsed.log).toContain('retry: Reconnecting... 1/5');
    expect(parsed.log).toContain('file change: add /w/after-drop.txt');
  });

  it('an error with no later turn.completed is still a reported failure', () => {
    expect(outcome('codex', 0, lines({ type: 'turn.started' }, { type: 'error', message: 'stream closed' })).failure).toEqual({ code: 'EXECUTOR_REPORTED_FAILURE', summary: 'stream closed' });
  });

  it('"unexpected status 401" after the retries is AUTH_FAILED with its message', () => {
    const msg = 'unexpected status 401 Unauthorized: scripted 401: invalid key, url: http://127.0.0.1:1/v1/responses';
    const stdout = lines(
      ...[1, 2, 3, 4, 5].map((n) => ({ type: 'error', message: `Reconnecting... ${n}/5 (${msg})` })),
      { type: 'error', message: msg },
      { type: 'turn.failed', error: { message: msg } },
    );
    expect(outcome('codex', 1, stdout).failure).toEqual({ code: 'AUTH_FAILED', summary: msg });
  });

  it('a command its rules forbid shows only on stderr (Rejected(...)): recorded, EXECUTOR_DENIED', () => {
    const stderr =
      'WARNING: proceeding, even though we could not create PATH aliases\n' +
      '2026-12-01T10:00:00Z ERROR codex_core::tools::router: error=exec_command failed: CreateProcess { message: "Rejected(\\"`/bin/bash -lc \'node mark.js denied\'` rejected: policy forbids commands starting with `node mark.js denied`\\")" }\n';
    const { parsed, failure } = outcome('codex', 0, lines({ type: 'turn.completed' }), stderr);
    expect(parsed.denied).toEqual(["`/bin/bash -lc 'node mark.js denied'` rejected: policy forbids commands starting with `node mark.js denied`"]);
    expect(failure?.code).toBe('EXECUTOR_DENIED');
  });

  it('turns plugin and app sync, analytics, feedback and the update check off, with a per-attempt CODEX_HOME', () => {
    const inv = getAdapter('codex').buildInvocation({ adapter: 'codex', commands: 'any' }, { task: 't', worktree: '/w', taskFile: '/s/t', scratchDir: '/s', binaryPath: '/bin/codex', stateDir: '/s/home' });
    expect(inv.argv.slice(0, 5)).toEqual(['/bin/codex', 'exec', '--json', '--sandbox', 'workspace-write']);
    expect(inv.argv.at(-1)).toBe('-');
    for (const c of ['features.plugins=false', 'features.remote_plugin=false', 'features.apps=false', 'analytics.enabled=false', 'check_for_update_on_startup=false']) expect(inv.argv).toContain(c);
    expect(inv.env.CODEX_HOME).toBe('/s/home/.codex');
  });
});

describe('gemini output', () => {
  const ctx = { task: 'secret task', worktree: '/w', taskFile: '/s/t', scratchDir: '/s', binaryPath: '/bin/gemini', stateDir: '/s/home' };

  it('passes --skip-trust and stream-json; the task stays off argv; settings and GEMINI_CLI_HOME per attempt', () => {
    const inv = getAdapter('gemini').buildInvocation({ adapter: 'gemini', env: ['GEMINI_API_KEY'] }, ctx);
    expect(inv.argv).toEqual(['/bin/gemini', '--output-format', 'stream-json', '--skip-trust', '--approval-mode', 'auto_edit']);
    expect(inv.stdin).toBe('secret task');
    expect(inv.env).toMatchObject({ GEMINI_CLI_HOME: '/s/home', GEMINI_TELEMETRY_ENABLED: 'false' });
    const settings = JSON.parse(inv.files!.find((f) => f.path === '/s/home/.gemini/settings.json')!.content) as Record<string, unknown>;
    expect(settings).toMatchObject({ security: { auth: { selectedType: 'gemini-api-key' } }, privacy: { usageStatisticsEnabled: false }, telemetry: { enabled: false } });
  });

  it('a list of commands becomes --approval-mode default with a policy file of allow rules', () => {
    const inv = getAdapter('gemini').buildInvocation({ adapter: 'gemini', commands: ['npm test'] }, ctx);
    expect(inv.argv.slice(4)).toEqual(['--approval-mode', 'default', '--policy', '/s/gemini-policy.toml']);
    const toml = inv.files!.find((f) => f.path === '/s/gemini-policy.toml')!.content;
    expect(toml).toContain('toolName = "run_shell_command"\ncommandPrefix = "npm test"\ndecision = "allow"');
    expect(getAdapter('gemini').buildInvocation({ adapter: 'gemini', commands: 'any' }, ctx).argv).toContain('yolo');
  });

  it('exit 55: the untrusted-folder cause on stderr becomes the summary', () => {
    const stderr = 'Approval mode overridden to "default" because the current folder is not trusted.\nGemini CLI is not running in a trusted directory. To proceed, either use `--skip-trust`, set the `GEMINI_CLI_TRUST_WORKSPACE=true` environment variable, or trust this directory in interactive mode.\n';
    expect(outcome('gemini', 55, '', stderr).failure).toEqual({ code: 'EXECUTOR_FAILED', summary: expect.stringMatching(/^Gemini CLI is not running in a trusted directory/) as string });
  });

  it('the error envelope on stderr is read (API 400, exit 144)', () => {
    const stderr = '{"session_id":"s","error":{"type":"Error","message":"{\\"error\\":{\\"code\\":400,\\"message\\":\\"fake forced 400\\"}}","code":400}}\n';
    const { failure } = outcome('gemini', 144, '', stderr);
    expect(failure?.code).toBe('EXECUTOR_FAILED');
    expect(failure?.summary).toContain('fake forced 400');
  });

  it('UNAUTHENTICATED (exit 145) is AUTH_FAILED with the CLI\'s message', () => {
    const stdout = lines({ type: 'init', session_id: 's', model: 'auto' }, { type: 'result', status: 'error', error: { type: 'unknown', message: '[API Error: {"error":{"code":401,"message":"scripted 401: invalid key","status":"UNAUTHENTICATED"}}]' } });
    const { failure } = outcome('gemini', 145, stdout, 'Error when talking to Gemini API Full report available at: /tmp/x.json _ApiError: {"error":{"code":401}}\n');
    expect(failure?.code).toBe('AUTH_FAILED');
    expect(failure?.summary).toContain('scripted 401: invalid key');
  });

  it('a tool call denied by policy is recorded with its command; assistant text, tool calls and files are logged', () => {
    const stdout = lines(
      { type: 'init', session_id: 's', model: 'auto' },
      { type: 'message', role: 'assistant', content: 'SCRIPTED: ', delta: true },
      { type: 'message', role: 'assistant', content: 'step 5.', delta: true },
      { type: 'tool_use', tool_name: 'write_file', tool_id: 'w1', parameters: { file_path: '/w/greet.txt', content: 'hi' } },
      { type: 'tool_result', tool_id: 'w1', status: 'success' },
      { type: 'tool_use', tool_name: 'run_shell_command', tool_id: 'r1', parameters: { command: 'node mark.js denied' } },
      { type: 'tool_result', tool_id: 'r1', status: 'error', output: 'Tool execution denied by policy.', error: { type: 'policy_violation', message: 'Tool execution denied by policy.' } },
      { type: 'message', role: 'assistant', content: 'SCRIPTED: done.', delta: true },
      { type: 'result', status: 'success', stats: {} },
    );
    const { parsed, failure } = outcome('gemini', 0, stdout, 'Error executing tool run_shell_command: Tool execution denied by policy.\n');
    expect(parsed.log.split('\n')).toEqual(['session s model auto', 'assistant: SCRIPTED: step 5.', 'tool: write_file /w/greet.txt', 'tool: run_shell_command node mark.js denied', 'denied: run_shell_command node mark.js denied', 'assistant: SCRIPTED: done.', 'result: success', '']);
    expect(parsed.summary).toBe('SCRIPTED: done.');
    expect(failure?.code).toBe('EXECUTOR_DENIED');
  });
});

describe('live attempt.log lines', () => {
  it('are the parsed lines of each stream line: tool calls with their command or file, denials, retries; the task echo is dropped', () => {
    const claude = getAdapter('claude-code').liveLines!;
    expect(claude(JSON.stringify({ type: 'assistant', message: { content: [{ type: 'tool_use', name: 'Write', input: { file_path: '/w/greet.txt', content: 'x'.repeat(2000) } }] } }))).toEqual(['tool: Write /w/greet.txt']);
    expect(claude(JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', is_error: true, content: 'Exit code 1\nReferenceError: x' }] } }))).toEqual(['tool error: Exit code 1']);
    expect(claude(JSON.stringify({ type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 2, error_status: 500, error: 'server_error' }))).toEqual(['retry 1/2: API status 500 server_error']);
    expect(getAdapter('codex').liveLines!(JSON.stringify({ type: 'item.completed', item: { type: 'command_execution', command: "/bin/bash -lc 'npm test'", exit_code: 1 } }))).toEqual(["command: /bin/bash -lc 'npm test' (exit 1)"]);
    expect(getAdapter('gemini').liveLines!(JSON.stringify({ type: 'message', role: 'user', content: 'the secret task' }))).toEqual([]);
    expect(getAdapter('gemini').liveLines!('Loaded cached credentials.')).toEqual(['Loaded cached credentials.']);
    expect(getAdapter('simulation').liveLines).toBeUndefined();
  });
});

describe('the idle-output watchdog outcome', () => {
  it('a stalled process is STALLED, before anything its output says', () => {
    const parsed = getAdapter('codex').parseOutput('', '');
    expect(executorFailure(exited(143, { stalled: true }), parsed, { idleTimeoutMs: 2000 })).toEqual({ code: 'STALLED', summary: 'the executor printed nothing for 2000 ms (idleTimeout) and was stopped' });
  });
});
