#!/usr/bin/env node
// Runs `sluice executors check` for a workspace with every adapter against the pinned real CLIs and writes its
// output into docs/EXECUTORS.md (between the executors-check markers). The install folder is shown as <agent-clis>.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTALL_COMMAND, agentCliInstallDir, isInstalled } from './agent-clis.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installDir = agentCliInstallDir();
if (!isInstalled(installDir)) {
  console.error(`docs-executors-check: the pinned agent CLIs are not installed; run \`${INSTALL_COMMAND}\``);
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'sluice-docs-check-'));
try {
  const home = join(scratch, 'home');
  const repo = join(scratch, 'web-app');
  mkdirSync(repo);
  for (const args of [['init', '-q', '-b', 'main'], ['-c', 'user.name=docs', '-c', 'user.email=docs@sluice.invalid', 'commit', '-q', '--allow-empty', '-m', 'init']]) {
    spawnSync('git', args, { cwd: repo });
  }
  const executors = {
    claude: { adapter: 'claude-code', env: ['ANTHROPIC_API_KEY'], policy: { commands: ['npm test'] } },
    codex: { adapter: 'codex', env: ['OPENAI_API_KEY'], policy: { commands: 'any' } },
    gemini: { adapter: 'gemini', env: ['GEMINI_API_KEY'], policy: { commands: ['npm test'] } },
    aider: { adapter: 'aider', env: ['OPENAI_API_KEY'] },
    mine: { adapter: 'command', argv: ['node', 'agent.js'] },
    sim: { adapter: 'simulation' },
  };
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(home, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 7433 }, workspaces: { 'web-app': { path: repo, name: 'web-app', executors } } }));
  const env = {
    PATH: [join(installDir, 'node_modules', '.bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    HOME: join(scratch, 'operator'),
    LANG: 'C.UTF-8',
    SLUICE_HOME: home,
    ANTHROPIC_API_KEY: 'not-a-real-key',
    GEMINI_API_KEY: 'not-a-real-key',
  };
  const run = spawnSync(process.execPath, [join(root, 'packages', 'daemon', 'dist', 'cli', 'main.js'), 'executors', 'check'], { env, encoding: 'utf8' });
  if (run.status !== 1 || !run.stdout.startsWith('WORKSPACE')) {
    console.error(`docs-executors-check: unexpected answer (exit ${run.status}):\n${run.stdout}${run.stderr}`);
    process.exit(1);
  }
  const output = `$ sluice executors check\n${run.stdout.replaceAll(installDir, '<agent-clis>').replaceAll(dirname(process.execPath), '<node>')}$ echo $?\n1`;
  const docPath = join(root, 'docs', 'EXECUTORS.md');
  const doc = readFileSync(docPath, 'utf8');
  const next = doc.replace(/<!-- executors-check:start -->\n[\s\S]*?<!-- executors-check:end -->/, `<!-- executors-check:start -->\n\`\`\`text\n${output}\n\`\`\`\n<!-- executors-check:end -->`);
  writeFileSync(docPath, next);
  console.log(next === doc ? 'docs/EXECUTORS.md already matches (executors-check)' : 'docs/EXECUTORS.md updated (executors-check)');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
