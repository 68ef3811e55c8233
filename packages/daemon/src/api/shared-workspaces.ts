import { HEADERS, parseShare, SluiceError } from '@sluice/shared-protocol';
import type { ConfigHolder } from '../config/config-holder.js';
import type { Store } from '../store/index.js';

const SHARES_SEEN = 'connector.shares';

/**
 * Turns `x-sluice-shared-workspaces` into the workspaces a remote request may see: an entry counts only while it
 * names the workspace's current registration (a bare id only for a workspace that has none), so a workspace
 * removed and registered again, or another repository under a shared id, is not reachable by an old share.
 * Each new share list the daemon sees is audited once (share, unshare, or a share that went stale).
 */
export class SharedWorkspaces {
  private lastSeen: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly config: ConfigHolder,
  ) {}

  resolve(header: string): Set<string> {
    const entries = header
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const shares = entries.map(parseShare);
    if (entries.length > 256 || shares.some((s) => s === null)) throw new SluiceError('BAD_REQUEST', `${HEADERS.sharedWorkspaces} must list workspace ids, each optionally @ its registration.`);
    const visible = new Set<string>();
    const stale: string[] = [];
    for (const share of shares) {
      const ws = this.config.workspace(share!.workspaceId);
      if (ws && ws.registration === share!.registration) visible.add(share!.workspaceId);
      else stale.push(share!.workspaceId);
    }
    this.auditIfNew(entries, [...visible], stale);
    return visible;
  }

  private auditIfNew(entries: string[], visible: string[], stale: string[]): void {
    const details = { shares: [...entries].sort(), shared: visible.sort(), stale: stale.sort() };
    const text = JSON.stringify(details);
    this.lastSeen ??= this.store.lastAuditDetails(SHARES_SEEN) ?? '';
    if (text === this.lastSeen) return;
    this.lastSeen = text;
    this.store.audit({ actor: 'system:connector', action: SHARES_SEEN, target: null, outcome: 'ok', details });
  }
}
