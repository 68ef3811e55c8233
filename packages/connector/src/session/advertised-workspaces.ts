import { sharedWorkspaceIds, type WorkspaceSummary } from '@sluice/shared-protocol';

/**
 * What the hello frame advertises. While the daemon answers: the shared workspaces it has. While it does not: every
 * shared workspace, marked unavailable, so the relay answers `DAEMON_UNAVAILABLE` (retry) instead of "no such
 * workspace" (give up). The last summary the daemon gave is kept for that; a share never seen gets a placeholder.
 */
export class AdvertisedWorkspaces {
  private readonly lastKnown = new Map<string, WorkspaceSummary>();

  /** The daemon listed `list` for the share list `shares` (entries `id` or `id@reg_…`). */
  fromDaemon(shares: readonly string[], list: readonly WorkspaceSummary[]): WorkspaceSummary[] {
    const ids = sharedWorkspaceIds(shares);
    const shared = list.filter((w) => ids.includes(w.workspaceId));
    for (const w of shared) this.lastKnown.set(w.workspaceId, w);
    return shared;
  }

  /** The daemon could not be asked: every share, unavailable. */
  daemonDown(shares: readonly string[]): WorkspaceSummary[] {
    return sharedWorkspaceIds(shares).map((id) => ({ ...(this.lastKnown.get(id) ?? placeholder(id)), available: false }));
  }
}

function placeholder(workspaceId: string): WorkspaceSummary {
  return { workspaceId, name: workspaceId, executors: [], validations: [], approvalPolicy: 'always', remoteApprovals: false };
}
