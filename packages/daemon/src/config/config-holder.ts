import { SluiceError } from '@sluice/shared-protocol';
import type { DaemonConfig, WorkspaceConfig } from './schema.js';

/** The current frozen config; replaced whole when the operator adds or removes a workspace. */
export class ConfigHolder {
  constructor(private config: DaemonConfig) {}

  get current(): DaemonConfig {
    return this.config;
  }

  replace(next: DaemonConfig): void {
    this.config = next;
  }

  /** A workspace's config, or null. */
  workspace(id: string): WorkspaceConfig | null {
    return Object.prototype.hasOwnProperty.call(this.config.workspaces, id) ? (this.config.workspaces[id] ?? null) : null;
  }

  /** A workspace's config; `WORKSPACE_NOT_FOUND` when it is not registered. */
  requireWorkspace(id: string): WorkspaceConfig {
    const ws = this.workspace(id);
    if (!ws) throw new SluiceError('WORKSPACE_NOT_FOUND');
    return ws;
  }
}
