import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const RECORD = `
const fs = require('fs');
function record(extra) {
  if (process.env.FAKE_RECORD) fs.writeFileSync(process.env.FAKE_RECORD, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), ...extra }));
}
// Prints the help text (lines as the real CLI prints them), without the lines of the flags FAKE_HELP_DROP names.
function help(lines) {
  const drop = (process.env.FAKE_HELP_DROP || '').split(',').filter(Boolean);
  console.log(lines.filter((l) => !drop.some((f) => l.includes(f))).join('\\n'));
  process.exit(0);
}
function readStdin(cb) { let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => cb(s)); }
`;

/** Fake agent CLIs that print what the real ones print (version banners, output formats). */
export const FAKE_CLIS: Record<string, string> = {
  claude: `${RECORD}
if (process.argv.includes('--version')) { console.log(process.env.FAKE_VERSION || '2.1.197 (Claude Code)'); process.exit(0); }
if (process.argv.includes('--help')) help([
  'Usage: claude [options] [command] [prompt]',
  '  --allowedTools, --allowed-tools <tools...>  Comma or space-separated list of tool names to allow',
  '  --disallowedTools, --disallowed-tools <tools...>  Comma or space-separated list of tool names to deny',
  '  --output-format <format>  Output format (only works with --print)',
  '  --permission-mode <mode>  Permission mode to use for the session',
  '  -p, --print  Print response and exit (useful for pipes).',
  '  --verbose  Override verbose mode setting from config',
]);
readStdin((stdin) => {
  record({ stdin });
  fs.writeFileSync('claude-was-here.txt', stdin);
  const out = [
    { type: 'system', subtype: 'init', cwd: process.cwd(), session_id: 'b1f0c7e2-0000-4000-8000-000000000001', tools: ['Read', 'Edit', 'Bash'], model: 'claude-sonnet-4-5', permissionMode: 'acceptEdits' },
    { type: 'assistant', message: { id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'I will fix the sign in add().' }] }, session_id: 'b1f0c7e2-0000-4000-8000-000000000001' },
    { type: 'assistant', message: { id: 'msg_02', type: 'message', role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Edit', input: { file_path: 'src/math.js' } }] }, session_id: 'b1f0c7e2-0000-4000-8000-000000000001' },
    { type: 'user', message: { role: 'user', content: [{ tool_use_id: 'toolu_01', type: 'tool_result', content: 'ok' }] } },
    { type: 'result', subtype: process.env.FAKE_SUBTYPE || 'success', is_error: process.env.FAKE_SUBTYPE ? true : false, duration_ms: 5120, duration_api_ms: 4800, num_turns: 3, result: 'Fixed add() to use +.', session_id: 'b1f0c7e2-0000-4000-8000-000000000001', total_cost_usd: 0.0123, usage: { input_tokens: 10, output_tokens: 20 },
      // FAKE_DENY="cmd1,cmd2": the Bash commands its permission mode refused, as the real CLI lists them.
      permission_denials: (process.env.FAKE_DENY || '').split(',').filter(Boolean).map((command, i) => ({ tool_name: 'Bash', tool_use_id: 'toolu_d' + i, tool_input: { command } })) },
  ];
  for (const l of out) process.stdout.write(JSON.stringify(l) + '\\n');
});
`,
  codex: `${RECORD}
if (process.argv.includes('--version')) { console.log(process.env.FAKE_VERSION || 'codex-cli 0.171.0'); process.exit(0); }
if (process.argv.includes('--help')) help([
  'Run Codex non-interactively',
  'Usage: codex exec [OPTIONS] [PROMPT]',
  '  -c, --config <key=value>',
  '  -s, --sandbox <SANDBOX_MODE>',
  '      --json',
]);
readStdin((stdin) => {
  record({ stdin });
  fs.writeFileSync('codex-was-here.txt', stdin);
  const out = [
    { type: 'thread.started', thread_id: '0199a213-81c0-7800-8aa1-bbab2a035a53' },
    { type: 'turn.started' },
    { type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: '**Looking at math.js**' } },
    { type: 'item.completed', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc ls', aggregated_output: 'src\\n', exit_code: 0, status: 'completed' } },
    { type: 'item.completed', item: { id: 'item_2', type: 'agent_message', text: 'Changed add() to return a + b.' } },
    { type: 'turn.completed', usage: { input_tokens: 24763, cached_input_tokens: 24448, output_tokens: 122 } },
  ];
  for (const l of out) process.stdout.write(JSON.stringify(l) + '\\n');
});
`,
  aider: `${RECORD}
if (process.argv.includes('--version')) { console.log(process.env.FAKE_VERSION || 'aider 0.86.1'); process.exit(0); }
if (process.argv.includes('--help')) help([
  'usage: aider [-h] [--model MODEL] ...',
  '  --message-file MESSAGE_FILE, -f MESSAGE_FILE',
  '  --yes-always          Always say yes to every confirmation',
  '  --auto-commits, --no-auto-commits',
  '  --dirty-commits, --no-dirty-commits',
  '  --pretty, --no-pretty',
  '  --stream, --no-stream',
  '  --check-update, --no-check-update',
  '  --gitignore, --no-gitignore',
  '  --suggest-shell-commands, --no-suggest-shell-commands',
  '  --chat-history-file CHAT_HISTORY_FILE',
  '  --input-history-file INPUT_HISTORY_FILE',
]);
const i = process.argv.indexOf('--message-file');
const message = fs.readFileSync(process.argv[i + 1], 'utf8');
record({ message });
fs.writeFileSync('aider-was-here.txt', message);
console.log('Aider v0.86.1');
console.log('Main model: gpt-4o with diff edit format');
console.log('Git repo: .git with 3 files');
console.log('Applied edit to aider-was-here.txt');
`,
  gemini: `${RECORD}
if (process.argv.includes('--version')) { console.log(process.env.FAKE_VERSION || '0.61.0'); process.exit(0); }
if (process.argv.includes('--help')) help([
  'Usage: gemini [options] [command]',
  '  -p, --prompt                    Run in non-interactive (headless) mode with the given prompt.  [string]',
  '      --skip-trust                Trust the current workspace for this session.  [boolean] [default: false]',
  '      --approval-mode             Set the approval mode  [string] [choices: "default", "auto_edit", "yolo", "plan"]',
  '      --policy                    Additional policy files or directories to load  [array]',
  '  -o, --output-format             The format of the CLI output.  [string] [choices: "text", "json", "stream-json"]',
]);
// Like the real CLI: a piped stdin is the input (headless), a \`--prompt\` is appended to it.
const p = process.argv.find((a) => a.startsWith('--prompt='));
readStdin((stdin) => {
  const input = [stdin, p ? p.slice('--prompt='.length) : ''].filter((x) => x.length > 0).join('\\n\\n');
  record({ stdin, input });
  if (input.length === 0) { console.error('No input provided via stdin.'); process.exit(42); }
  fs.writeFileSync('gemini-was-here.txt', input);
  const out = [
    { type: 'init', session_id: 'c0ffee00-0000-4000-8000-000000000001', model: 'auto' },
    { type: 'message', role: 'user', content: input },
    { type: 'message', role: 'assistant', content: 'Updated the function ', delta: true },
    { type: 'message', role: 'assistant', content: 'as requested.', delta: true },
    { type: 'result', status: 'success', stats: { total_tokens: 60, tool_calls: 1 } },
  ];
  for (const l of out) process.stdout.write(JSON.stringify(l) + '\\n');
});
`,
  'my-agent': `${RECORD}
readStdin((stdin) => {
  record({ stdin, taskFile: fs.readFileSync(process.env.SLUICE_TASK_FILE, 'utf8') });
  console.log('working');
  console.log('my agent is done');
});
`,
};

/** Write the fake CLIs (or the named ones) into `binDir` as executables. */
export function installFakeClis(binDir: string, names: string[] = Object.keys(FAKE_CLIS)): void {
  mkdirSync(binDir, { recursive: true });
  for (const name of names) {
    const p = join(binDir, name);
    writeFileSync(p, `#!/usr/bin/env node\n${FAKE_CLIS[name]!}`);
    chmodSync(p, 0o755);
  }
}

/** A PATH with the fake bin dir first and node available for `#!/usr/bin/env node`. */
export function fakePath(binDir: string): string {
  return [binDir, dirname(process.execPath), '/usr/bin', '/bin'].join(':');
}
