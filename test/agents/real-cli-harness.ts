// Runs one real agent CLI against its scripted model API: in a temp git repo with a scratch HOME and TMPDIR, with
// telemetry and update checks switched off, behind a recording proxy and (where possible) in a network namespace
// that has only loopback.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AGENT_CLIS, INSTALL_COMMAND, agentCliInstallDir, binPath, isInstalled } from '../../scripts/agent-clis.mjs';
import { anthropicMessagesApi, anthropicToolResults } from './model-apis/anthropic-messages.js';
import { geminiApi, geminiFunctionResponses } from './model-apis/gemini.js';
import { openAiResponsesApi, openAiToolOutputs } from './model-apis/openai-responses.js';
import type { ScriptedApi } from './model-apis/scripted-api.js';
import { NetJail, netJailUnavailable } from './egress/net-jail.js';
import { CLAUDE_QUIET_ENV } from '../../packages/daemon/src/executors/claude-code.js';
import { GEMINI_QUIET_ENV } from '../../packages/daemon/src/executors/gemini.js';
import { RecordingProxy } from './egress/recording-proxy.js';

export type CliId = 'claude' | 'codex' | 'gemini';

/** Where the CLIs are, or why the suite cannot run (and whether it may skip instead of failing). */
export function locateAgentClis(env = process.env): { dir: string } | { skip: string } | { fail: string } {
  const dir = agentCliInstallDir(env);
  if (isInstalled(dir)) return { dir };
  const missing = `the pinned agent CLIs are not installed in ${dir}; run \`${INSTALL_COMMAND}\` (npm test runs it first)`;
  if (env.SLUICE_SKIP_REAL_AGENTS === '1' && env.CI !== 'true') return { skip: `SLUICE_SKIP_REAL_AGENTS=1: ${missing}` };
  return { fail: missing };
}

export interface Workspace {
  repo: string;
  home: string;
  tmp: string;
  root: string;
}

export function makeWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'sluice-real-cli-'));
  const ws = { root, repo: join(root, 'repo'), home: join(root, 'home'), tmp: join(root, 'tmp') };
  for (const d of [ws.repo, ws.home, ws.tmp]) mkdirSync(d);
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ws.repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@sluice.invalid');
  git('config', 'user.name', 'sluice test');
  // A command with a visible side effect: `node mark.js <name>` writes marker-<name>.txt.
  writeFileSync(join(ws.repo, 'mark.js'), "require('fs').writeFileSync(`marker-${process.argv[2]}.txt`, 'ran\\n');\n");
  writeFileSync(join(ws.repo, 'README.md'), '# scratch\n');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  return ws;
}

export function removeWorkspace(ws: Workspace): void {
  rmSync(ws.root, { recursive: true, force: true });
}

export interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface RunOptions {
  prompt: string;
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** The per-CLI part: its API dialect, its argv, its environment and the files it needs in the scratch HOME. */
interface CliProfile {
  api(): ScriptedApi;
  /** What the CLI sent back to the model for its tool calls (denials included), from the last main request. */
  toolResults(api: ScriptedApi): unknown[];
  argv(bin: string, ws: Workspace, api: ScriptedApi, opts: RunOptions): string[];
  env(ws: Workspace, api: ScriptedApi): Record<string, string>;
  setup(ws: Workspace, api: ScriptedApi): void;
  stdin(opts: RunOptions): string;
}

/** The switches the adapters set (one place for each fact); the raw runs set them the same way. */
export { CLAUDE_QUIET_ENV, GEMINI_QUIET_ENV };
export const GEMINI_SETTINGS = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
};

/** Codex: the scripted provider and the analytics/feedback/update switches, as CODEX_HOME/config.toml. */
export function codexConfigToml(apiUrl: string): string {
  return [
    'model = "gpt-5.5"',
    'model_provider = "scripted"',
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    // Plugin and app (connector) sync reach github.com, api.github.com and chatgpt.com at startup.
    '[features]',
    'plugins = false',
    'remote_plugin = false',
    'apps = false',
    '',
    '[model_providers.scripted]',
    'name = "scripted loopback Responses API"',
    `base_url = "${apiUrl}/v1"`,
    'env_key = "OPENAI_API_KEY"',
    'wire_api = "responses"',
    '',
  ].join('\n');
}

export const PROFILES: Record<CliId, CliProfile> = {
  claude: {
    api: anthropicMessagesApi,
    toolResults: anthropicToolResults,
    argv: (bin, _ws, _api, o) => [bin, '-p', '--output-format', 'stream-json', '--verbose', ...(o.args ?? ['--permission-mode', 'acceptEdits'])],
    env: (ws, api) => ({
      ...CLAUDE_QUIET_ENV,
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: 'scripted-key',
      CLAUDE_CONFIG_DIR: join(ws.home, 'claude-config'),
    }),
    setup: () => undefined,
    stdin: (o) => o.prompt,
  },
  codex: {
    api: openAiResponsesApi,
    toolResults: openAiToolOutputs,
    argv: (bin, _ws, _api, o) => [bin, 'exec', '--json', '--strict-config', ...(o.args ?? ['--sandbox', 'workspace-write']), '-'],
    env: (ws) => ({ CODEX_HOME: join(ws.home, 'codex-home'), OPENAI_API_KEY: 'scripted-key' }),
    setup: (ws, api) => {
      mkdirSync(join(ws.home, 'codex-home'), { recursive: true });
      writeFileSync(join(ws.home, 'codex-home', 'config.toml'), codexConfigToml(api.url));
    },
    stdin: (o) => o.prompt,
  },
  gemini: {
    api: geminiApi,
    toolResults: geminiFunctionResponses,
    argv: (bin, _ws, _api, o) => [bin, '--output-format', 'stream-json', '--skip-trust', ...(o.args ?? ['--approval-mode', 'auto_edit']), `--prompt=${o.prompt}`],
    env: (ws, api) => ({
      ...GEMINI_QUIET_ENV,
      GEMINI_API_KEY: 'scripted-key',
      GOOGLE_GEMINI_BASE_URL: api.url,
      GEMINI_CLI_HOME: join(ws.home, 'gemini-home'),
    }),
    setup: (ws) => {
      const dir = join(ws.home, 'gemini-home', '.gemini');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'settings.json'), JSON.stringify(GEMINI_SETTINGS, null, 2));
    },
    stdin: () => '',
  },
};

/** One CLI's test bench: its scripted API, the recording proxy and the network namespace, shared by its tests. */
export class CliBench {
  readonly api: ScriptedApi;
  readonly proxy = new RecordingProxy();
  private jail: NetJail | undefined;
  readonly jailSkipped: string | null;

  constructor(readonly id: CliId, private readonly installDir: string) {
    this.api = PROFILES[id].api();
    this.jailSkipped = netJailUnavailable();
  }

  async start(): Promise<this> {
    await this.api.start();
    await this.proxy.start();
    if (!this.jailSkipped) this.jail = await new NetJail().start([this.api, this.proxy]);
    return this;
  }

  async close(): Promise<void> {
    await this.jail?.close();
    await this.proxy.close();
    await this.api.close();
  }

  bin(): string {
    const cli = AGENT_CLIS.find((c) => c.id === this.id);
    if (!cli) throw new Error(`unknown CLI ${this.id}`);
    return binPath(this.installDir, cli);
  }

  async run(ws: Workspace, opts: RunOptions): Promise<CliRun> {
    const profile = PROFILES[this.id];
    profile.setup(ws, this.api);
    const argv = profile.argv(this.bin(), ws, this.api, opts);
    const full = this.jail ? this.jail.wrap(argv) : argv;
    const env = {
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: ws.home,
      TMPDIR: ws.tmp,
      LANG: 'C.UTF-8',
      ...this.proxy.env(),
      ...profile.env(ws, this.api),
      ...opts.env,
    };
    const started = Date.now();
    const child = spawn(full[0] as string, full.slice(1), { cwd: ws.repo, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(profile.stdin(opts));
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), opts.timeoutMs ?? 60_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    const result = { code, signal, stdout, stderr, ms: Date.now() - started };
    if (process.env.SLUICE_REAL_AGENTS_LOG) logRun(this.id, opts.prompt, result, profile.toolResults(this.api), ws);
    return result;
  }

  /** An executable that runs this CLI the way `run` does (inside the namespace when there is one), for a daemon. */
  launcher(dir: string): string {
    const path = join(dir, `${this.id}-launcher`);
    const argv = this.jail ? this.jail.wrap([this.bin()]) : [this.bin()];
    writeFileSync(path, `#!/bin/sh\nexec ${argv.map((a) => `'${a}'`).join(' ')} "$@"\n`, { mode: 0o755 });
    return path;
  }

  /** Runs a plain command the way the CLIs run (inside the namespace when there is one); async, so the loopback
   * servers of this process keep answering it. */
  async inJail(argv: string[]): Promise<string> {
    const full = this.jail ? this.jail.wrap(argv) : argv;
    return new Promise((resolve) => execFile(full[0] as string, full.slice(1), { encoding: 'utf8' }, (_err, stdout) => resolve(stdout)));
  }
}

/** SLUICE_REAL_AGENTS_LOG=<file> keeps every run's output: the facts docs/EXECUTORS.md records come from it. */
function logRun(id: string, prompt: string, r: CliRun, toolResults: unknown[], ws: Workspace): void {
  const line = (s: string) => s.split('\n').filter(Boolean).map((l) => `    ${l.slice(0, l.includes(`"type":"result"`) ? 4000 : 600)}`).join('\n');
  const tools = toolResults.map((t) => `    ${JSON.stringify(t).slice(0, 600)}`).join('\n');
  const text = `=== ${id}: ${prompt} → exit ${r.code} signal ${r.signal} in ${r.ms} ms\n  stdout:\n${line(r.stdout)}\n  stderr:\n${line(r.stderr)}\n  tool results:\n${tools}\n  state written:\n${stateFiles(ws)}\n`;
  writeFileSync(process.env.SLUICE_REAL_AGENTS_LOG as string, text, { flag: 'a' });
}

function stateFiles(ws: Workspace): string {
  const find = spawnSync('find', ['home', 'tmp', '-maxdepth', '5', '-type', 'f'], { cwd: ws.root, encoding: 'utf8' });
  return find.stdout.split('\n').filter(Boolean).map((f) => `    ${f}`).join('\n');
}

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
