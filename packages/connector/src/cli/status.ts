import { RELAY_PATHS, shareReaches, sharedWorkspaceIds } from '@sluice/shared-protocol';
import { readFileSync } from 'node:fs';
import { readReleaseInfo } from '@sluice/node-kit';
import { loadConnectorConfig } from '../config/connector-config.js';
import { sluiceHome } from '../config/paths.js';
import { DaemonClient, START_DAEMON_HINT } from '../upstream/daemon-client.js';
import { EXIT_CODES } from '../errors/exit-codes.js';
import type { ConnectorFailure } from '../errors/exit-codes.js';
import { httpJson } from '../net/http-json.js';
import { checkRelayUrl, relayHttpUrl } from '../net/relay-url.js';
import { processAlive, readState } from '../state/state-file.js';
import type { ConnectorState } from '../state/state-file.js';

/** Everything `status` found, with the problems a new user should fix, in order. */
export interface StatusReport {
  /** What this connector runs: the same facts as `--version --json`. */
  version: string;
  commit: string | null;
  manifestSha256: string | null;
  config: string;
  instanceId: string | null;
  relay: string | null;
  shares: string[];
  running: boolean;
  connected: boolean;
  since: string | null;
  lastError: ConnectorState['lastError'];
  sessionReplaced: ConnectorState['sessionReplaced'];
  daemon: { reachable: boolean; socket: string | null; error: string | null; missingShares: string[] };
  relayReachable: boolean | null;
  problems: string[];
  exitCode: number;
}

/** Check the config, the running connector (via its state file), the daemon and the relay. */
export async function collectStatus(configPath: string, statePath: string, env: NodeJS.ProcessEnv): Promise<StatusReport> {
  const { version, commit, manifestSha256 } = readReleaseInfo();
  const report: StatusReport = {
    version,
    commit,
    manifestSha256,
    config: configPath,
    instanceId: null,
    relay: null,
    shares: [],
    running: false,
    connected: false,
    since: null,
    lastError: null,
    sessionReplaced: null,
    daemon: { reachable: false, socket: null, error: null, missingShares: [] },
    relayReachable: null,
    problems: [],
    exitCode: EXIT_CODES.ok,
  };
  let config;
  try {
    config = loadConnectorConfig(configPath);
  } catch (err) {
    const f = err as ConnectorFailure;
    report.problems.push(`${f.code}: ${f.message}`);
    report.exitCode = f.exitCode ?? EXIT_CODES.configInvalid;
    return report;
  }
  report.instanceId = config.instanceId;
  report.relay = config.relayUrl;
  report.shares = sharedWorkspaceIds(config.shares);

  const state = readState(statePath);
  if (state) {
    report.running = state.stoppedAt === null && processAlive(state.pid);
    report.connected = report.running && state.connected;
    report.since = report.connected ? state.since : null;
    report.lastError = state.lastError;
    report.sessionReplaced = state.sessionReplaced;
  }

  const daemon = new DaemonClient({ home: config.daemon.home ?? sluiceHome(env), url: config.daemon.url });
  report.daemon.socket = daemon.socketPath;
  try {
    const all = await daemon.listWorkspaces(undefined, 3000);
    report.daemon.reachable = true;
    report.daemon.missingShares = sharedWorkspaceIds(config.shares.filter((s) => !all.some((w) => shareReaches(s, w))));
  } catch (err) {
    report.daemon.error = (err as Error).message;
  }

  let relayProblem: string | null = null;
  try {
    const base = checkRelayUrl(config.relayUrl, config.tls.insecure);
    const ca = config.tls.ca ? readFileSync(config.tls.ca, 'utf8') : undefined;
    const res = await httpJson(relayHttpUrl(base, `${RELAY_PATHS.connectorChallenge}?instanceId=${encodeURIComponent(config.instanceId)}`), {
      method: 'GET',
      ca,
      timeoutMs: 3000,
      maxBytes: 64 * 1024,
    });
    report.relayReachable = res.kind === 'response';
    if (res.kind !== 'response') relayProblem = `the relay at ${base.origin} is not reachable (${res.kind === 'unreachable' ? res.message : res.kind}); check the URL, your network, or ask the relay operator`;
  } catch (err) {
    report.relayReachable = false;
    relayProblem = `the relay cannot be checked: ${(err as Error).message}`;
  }

  if (report.sessionReplaced) report.problems.push(`CONNECTION_REPLACED at ${report.sessionReplaced.at}: ${report.sessionReplaced.message}`);
  if (!report.daemon.reachable) {
    const error = report.daemon.error ?? 'the daemon is not reachable';
    report.problems.push(`DAEMON_UNAVAILABLE: ${error.includes(START_DAEMON_HINT) ? error : `${error}; ${START_DAEMON_HINT}`}`);
    report.exitCode = EXIT_CODES.daemonUnavailable;
  }
  if (relayProblem) {
    report.problems.push(`RELAY_UNAVAILABLE: ${relayProblem}`);
    if (report.exitCode === EXIT_CODES.ok) report.exitCode = EXIT_CODES.relayUnavailable;
  }
  for (const m of report.daemon.missingShares) report.problems.push(`shared workspace ${m} does not exist on the daemon (planners cannot use it)`);
  if (config.shares.length === 0) report.problems.push('no workspace is shared: run `sluice-connector discover`, then `sluice-connector share <workspace>`');
  if (!report.running) {
    const last = state?.lastError ? ` (last error: ${state.lastError.code}: ${state.lastError.message})` : '';
    report.problems.push(`the connector is not running: start it with \`sluice-connector run\`${last}`);
    if (report.exitCode === EXIT_CODES.ok) report.exitCode = state?.exitCode && state.exitCode !== 0 ? state.exitCode : EXIT_CODES.failure;
  } else if (!report.connected) {
    const last = state?.lastError ? `: ${state.lastError.code}: ${state.lastError.message}` : '';
    report.problems.push(`the connector is running but not connected to the relay${last}${state?.nextRetryAt ? `; next retry at ${state.nextRetryAt}` : ''}`);
    if (report.exitCode === EXIT_CODES.ok) report.exitCode = EXIT_CODES.relayUnavailable;
  }
  return report;
}

/** Human-readable status. */
export function renderStatus(r: StatusReport): string {
  const lines = [
    `version:    ${r.version} (commit ${r.commit ?? 'unknown'}${r.manifestSha256 ? `, manifest ${r.manifestSha256}` : ''})`,
    `config:     ${r.config}`,
    `instance:   ${r.instanceId ?? '-'}`,
    `relay:      ${r.relay ?? '-'}${r.relayReachable === null ? '' : r.relayReachable ? ' (reachable)' : ' (NOT reachable)'}`,
    `daemon:     ${r.daemon.socket ?? '-'}${r.daemon.reachable ? ' (reachable)' : ' (NOT reachable)'}`,
    `shared:     ${r.shares.length ? r.shares.join(', ') : '(none)'}`,
    `connected:  ${r.connected ? `yes, since ${r.since ?? '?'}` : 'no'}${r.running ? '' : ' (not running)'}`,
    `last error: ${r.lastError ? `${r.lastError.code}: ${r.lastError.message} (${r.lastError.at})` : '-'}`,
  ];
  if (r.problems.length) lines.push('', 'problems:', ...r.problems.map((p) => `  - ${p}`));
  else lines.push('', 'all good');
  return `${lines.join('\n')}\n`;
}
