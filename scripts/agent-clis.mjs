// Where the pinned real agent CLIs live: one fact shared by scripts/install-agent-clis.mjs and the real-CLI suite.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGENT_CLIS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'agent-clis');
export const INSTALL_COMMAND = 'node scripts/install-agent-clis.mjs';
const MARKER = '.sluice-agent-clis-installed';

/**
 * The CLIs pinned in tools/agent-clis/package.json, each with the bin the suite runs and the one install script it
 * cannot run without (claude's install.cjs only hard-links the platform binary from its optional dependency).
 */
export const AGENT_CLIS = [
  { id: 'claude', pkg: '@anthropic-ai/claude-code', bin: 'claude', installScript: 'install.cjs' },
  { id: 'codex', pkg: '@openai/codex', bin: 'codex' },
  { id: 'gemini', pkg: '@google/gemini-cli', bin: 'gemini' },
].map((cli) => ({ ...cli, version: pinnedVersion(cli.pkg) }));

function pinnedVersion(pkg) {
  const manifest = JSON.parse(readFileSync(join(AGENT_CLIS_DIR, 'package.json'), 'utf8'));
  return manifest.dependencies[pkg];
}

/** The install is keyed by the lockfile's content: a changed pin gets a fresh folder, never a mixed one. */
export function lockHash() {
  return createHash('sha256').update(readFileSync(join(AGENT_CLIS_DIR, 'package-lock.json'))).digest('hex').slice(0, 16);
}

export function agentCliCacheRoot(env = process.env) {
  if (env.SLUICE_AGENT_CLI_CACHE) return env.SLUICE_AGENT_CLI_CACHE;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'sluice', 'agent-clis');
}

export function agentCliInstallDir(env = process.env) {
  return join(agentCliCacheRoot(env), lockHash());
}

export function binPath(installDir, cli) {
  return join(installDir, 'node_modules', '.bin', cli.bin);
}

export function markerPath(installDir) {
  return join(installDir, MARKER);
}

/** True when installDir holds a finished install of exactly this lockfile. */
export function isInstalled(installDir) {
  const marker = markerPath(installDir);
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== lockHash()) return false;
  return AGENT_CLIS.every((cli) => existsSync(binPath(installDir, cli)));
}
