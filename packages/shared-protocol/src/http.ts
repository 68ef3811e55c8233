/** Header names and paths the parts agree on. */
export const HEADERS = {
  /** Connector → daemon: the planner on whose behalf a request is made (recorded in the daemon ledger). */
  actor: 'x-sluice-actor',
  /** Connector → daemon: the workspaces this connector shares; the daemon re-checks remote requests against it. */
  sharedWorkspaces: 'x-sluice-shared-workspaces',
  /** Connector → relay: the signed auth frame (base64url JSON) on the websocket upgrade request. */
  connectorAuth: 'x-sluice-connector-auth',
} as const;

/** The daemon route that serves one verb: `POST /api/v1/verbs/<verb>` with the input as the JSON body. */
export function daemonVerbPath(verb: string): string {
  return `/api/v1/verbs/${verb}`;
}

/** The relay route that serves one verb for planners: `POST /api/v2/<verb>` with the input as the JSON body. */
export function relayVerbPath(verb: string): string {
  return `/api/v2/${verb}`;
}

/** Paths on the relay. */
export const RELAY_PATHS = {
  connectorSocket: '/ws/connectors',
  connectorChallenge: '/ws/connectors/challenge',
  enroll: '/ws/connectors/enroll',
  rotateKey: '/ws/connectors/rotate-key',
  mcp: '/mcp',
} as const;
