import type { DaemonConfig, WorkspaceConfig } from '../config/schema.js';
import { sandboxAvailability } from './availability.js';

/** How one workspace's children run: confined, unconfined by choice, or not at all (the sandbox cannot be made). */
export type SandboxStatus =
  | { workspaceId: string; mode: 'on'; available: true; limits: 'cgroup' | 'rlimit' }
  | { workspaceId: string; mode: 'on'; available: false; reason: string }
  | { workspaceId: string; mode: 'off'; warning: string };

/** The sandbox status of a workspace, for `sluice status` and `sluice executors check`. */
export function workspaceSandboxStatus(workspaceId: string, ws: Pick<WorkspaceConfig, 'sandbox'>, searchPath?: string): SandboxStatus {
  if (ws.sandbox === 'off') return { workspaceId, mode: 'off', warning: `workspace ${workspaceId} runs its agents and validations unconfined ("sandbox": "off"): they can read your HOME and reach any host` };
  const a = sandboxAvailability(searchPath);
  if (!a.ok) return { workspaceId, mode: 'on', available: false, reason: a.reason };
  return { workspaceId, mode: 'on', available: true, limits: a.tools.cgroups ? 'cgroup' : 'rlimit' };
}

/** One warning line per workspace whose children run unconfined or cannot run at all; none when all are confined. */
export function sandboxWarnings(config: Pick<DaemonConfig, 'workspaces'>, searchPath?: string): string[] {
  return Object.entries(config.workspaces).flatMap(([id, ws]) => {
    const s = workspaceSandboxStatus(id, ws, searchPath);
    if (s.mode === 'off') return [s.warning];
    return s.available ? [] : [`workspace ${id}: the sandbox is unavailable, so its attempts fail SANDBOX_UNAVAILABLE: ${s.reason}`];
  });
}
