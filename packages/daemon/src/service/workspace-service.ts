import type { WorkspaceSummary } from '@sluice/shared-protocol';
import { addWorkspace, removeWorkspace, type AddableAdapter } from '../config/workspaces.js';
import type { WorkspaceConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { canSee, type CallContext } from './call-context.js';
import type { ConfigHolder } from '../config/config-holder.js';

/** What a planner may know of a workspace: names only, never its path. */
export function summarize(id: string, ws: WorkspaceConfig): WorkspaceSummary {
  return {
    workspaceId: id,
    name: ws.name,
    executors: Object.keys(ws.executors),
    validations: Object.keys(ws.validations),
    approvalPolicy: ws.approval.policy,
    remoteApprovals: ws.approval.remote,
  };
}

/** Workspace registration for operators; listing for everyone (filtered by what is shared). */
export class WorkspaceService {
  constructor(private readonly deps: { store: Store; config: ConfigHolder; configPath: string | null }) {}

  /** Local operators also see each registration, which a connector's share ties itself to. */
  list(ctx: CallContext): (WorkspaceSummary & { registration?: string | null })[] {
    return Object.entries(this.deps.config.current.workspaces)
      .filter(([id]) => canSee(ctx, id))
      .map(([id, ws]) => (ctx.sharedWorkspaces === null ? { ...summarize(id, ws), registration: ws.registration } : summarize(id, ws)));
  }

  /** Register a repository (canonical path, must be a git repository root). */
  add(input: { path: string; id?: string | undefined; executors?: Readonly<Record<string, AddableAdapter>> | undefined }, ctx: CallContext, cwd: string): { workspaceId: string; path: string } {
    const configPath = this.requireConfigPath();
    try {
      const { id, config } = addWorkspace(configPath, { ...input, cwd });
      this.deps.config.replace(config);
      this.deps.store.audit({ actor: ctx.actor, action: 'workspace.add', target: id, outcome: 'ok', details: { path: config.workspaces[id]!.path, executors: input.executors ?? {} } });
      return { workspaceId: id, path: config.workspaces[id]!.path };
    } catch (err) {
      this.deps.store.audit({ actor: ctx.actor, action: 'workspace.add', target: input.id ?? null, outcome: (err as { code?: string }).code ?? 'INTERNAL' });
      throw err;
    }
  }

  remove(id: string, ctx: CallContext): void {
    const config = removeWorkspace(this.requireConfigPath(), id);
    this.deps.config.replace(config);
    this.deps.store.audit({ actor: ctx.actor, action: 'workspace.remove', target: id, outcome: 'ok' });
  }

  private requireConfigPath(): string {
    if (!this.deps.configPath) throw new Error('this daemon was started without a config file to write');
    return this.deps.configPath;
  }
}
