// Types for scripts/agent-clis.mjs (plain ESM so the installer runs without a build).
export interface AgentCli {
  id: 'claude' | 'codex' | 'gemini';
  pkg: string;
  bin: string;
  version: string;
  installScript?: string;
}
export const AGENT_CLIS_DIR: string;
export const INSTALL_COMMAND: string;
export const AGENT_CLIS: AgentCli[];
export function lockHash(): string;
export function agentCliCacheRoot(env?: Record<string, string | undefined>): string;
export function agentCliInstallDir(env?: Record<string, string | undefined>): string;
export function binPath(installDir: string, cli: AgentCli): string;
export function markerPath(installDir: string): string;
export function isInstalled(installDir: string): boolean;
