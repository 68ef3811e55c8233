import type { WorkspaceSummary } from '@sluice/shared-protocol';
import type { ConnectorHub } from '../connectors/connector-hub.js';
import type { UpstreamAnswer } from '../connectors/connector-session.js';

/** Where a call for an instance goes: its session on this relay, or the replica that holds it. */
export interface InstanceRoute {
  readonly instanceId: string;
  readonly workspaces: WorkspaceSummary[];
  request(verb: string, input: unknown, actor: string, timeoutMs: number): Promise<UpstreamAnswer>;
}

/** The online instances the dispatcher may route to. */
export interface InstanceRoutes {
  find(instanceId: string): Promise<InstanceRoute | undefined>;
  ofOrg(orgId: string): Promise<InstanceRoute[]>;
}

/** One relay: the hub's ready sessions are every route there is. */
export function localRoutes(hub: ConnectorHub): InstanceRoutes {
  return {
    find: async (id) => hub.get(id),
    ofOrg: async (orgId) => hub.sessionsOf(orgId),
  };
}
