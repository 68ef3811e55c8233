import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { WorkspaceSummary } from '@sluice/shared-protocol';
import { loadConnectorConfig } from '../config/connector-config.js';
import type { ConnectorConfig } from '../config/connector-config.js';
import { sluiceHome } from '../config/paths.js';
import { DaemonClient } from '../upstream/daemon-client.js';
import { ConnectorFailure, EXIT_CODES } from '../errors/exit-codes.js';
import type { ExitCode } from '../errors/exit-codes.js';
import { privateKeyObject } from '../identity/ed25519.js';
import { checkRelayUrl } from '../net/relay-url.js';
import { writeState } from '../state/state-file.js';
import type { ConnectorState } from '../state/state-file.js';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { AdvertisedWorkspaces } from './advertised-workspaces.js';
import { RelaySession } from './relay-session.js';
import { isUnrecoverable } from './unrecoverable.js';

/** How soon the workspace listing is retried while the daemon is down. */
const DAEMON_RETRY_MS = 2000;

export interface RunOptions {
  configPath: string;
  statePath: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Abort to shut down cleanly (goodbye, close). */
  signal: AbortSignal;
  backoff?: BackoffOptions;
  /** A session welcomed and alive at least this long resets the backoff. Default 10 s. */
  healthyMs?: number;
  /** How often the share list and daemon workspaces are re-read, re-sending hello when they change. Default 30 s. */
  refreshMs?: number;
  handshakeTimeoutMs?: number;
  drainMs?: number;
}

export interface RunOutcome {
  exitCode: ExitCode;
  code: string;
  message: string;
}

/**
 * Keep one session to the relay until shutdown or an unrecoverable refusal, reconnecting with jittered exponential
 * backoff. Resolves with the exit code the CLI should use.
 */
export async function runConnector(opts: RunOptions): Promise<RunOutcome> {
  const config = loadConnectorConfig(opts.configPath);
  const relayBase = checkRelayUrl(config.relayUrl, config.tls.insecure);
  const ca = readCa(config);
  let key = privateKeyObject(config.privateKey);
  /** The key in the config now: `rotate-key` replaces it while we run, and the relay refuses the old one. */
  const currentKey = (): KeyObject => {
    try {
      key = privateKeyObject(loadConnectorConfig(opts.configPath).privateKey);
    } catch (err) {
      log.warn({ code: err instanceof ConnectorFailure ? err.code : 'CONFIG_INVALID' }, 'cannot re-read the key from the config; keeping the previous one');
    }
    return key;
  };
  const daemon = new DaemonClient({ home: config.daemon.home ?? sluiceHome(opts.env), url: config.daemon.url });
  const log = opts.log.child({ instanceId: config.instanceId });
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const healthyMs = opts.healthyMs ?? 10_000;

  let shares: readonly string[] = [...config.shares];
  /** The last workspace listing failed: retry soon rather than at the next full refresh. */
  let daemonDown = false;
  const state: ConnectorState = {
    pid: process.pid,
    connected: false,
    since: null,
    relay: relayBase.origin,
    instanceId: config.instanceId,
    workspaces: [],
    lastError: null,
    nextRetryAt: null,
    stoppedAt: null,
    sessionReplaced: null,
    exitCode: null,
    updatedAt: new Date().toISOString(),
  };
  const save = (patch: Partial<ConnectorState>): void => {
    Object.assign(state, patch, { updatedAt: new Date().toISOString() });
    try {
      writeState(opts.statePath, state);
    } catch (err) {
      log.warn({ err }, 'cannot write the state file');
    }
    const { connected, since, relay, instanceId, lastError, nextRetryAt, stoppedAt, updatedAt } = state;
    void daemon.report({ instanceId, relay, connected, since, shares: [...shares], lastError: lastError && { ...lastError, code: lastError.code.slice(0, 100), message: lastError.message.slice(0, 2000) }, nextRetryAt, stoppedAt, updatedAt });
  };
  const fail = (code: string, message: string): ConnectorState['lastError'] => ({ code, message, at: new Date().toISOString() });

  const advertised = new AdvertisedWorkspaces();
  const workspaces = async (): Promise<WorkspaceSummary[]> => {
    const current = [...shares];
    if (current.length === 0) return [];
    try {
      const list = advertised.fromDaemon(current, await daemon.listWorkspaces(current));
      state.workspaces = list.map((w) => w.workspaceId);
      if (daemonDown) {
        daemonDown = false;
        save({ lastError: null });
      }
      return list;
    } catch (err) {
      if (!daemonDown) log.warn({ code: 'DAEMON_UNAVAILABLE' }, 'cannot list daemon workspaces; advertising the shared ones as unavailable until the daemon answers');
      daemonDown = true;
      const list = advertised.daemonDown(current);
      save({ workspaces: list.map((w) => w.workspaceId), lastError: fail('DAEMON_UNAVAILABLE', (err as Error).message) });
      return list;
    }
  };

  let session: RelaySession | undefined;
  const refreshMs = opts.refreshMs ?? 30_000;
  let lastRefresh = Date.now();
  const refresh = setInterval(() => {
    if (!daemonDown && Date.now() - lastRefresh < refreshMs) return;
    lastRefresh = Date.now();
    try {
      shares = [...loadConnectorConfig(opts.configPath).shares];
    } catch (err) {
      log.warn({ code: err instanceof ConnectorFailure ? err.code : 'CONFIG_INVALID' }, 'cannot re-read the config; keeping the previous share list');
    }
    void session?.refreshHello().then(() => save({}));
  }, Math.min(refreshMs, DAEMON_RETRY_MS));

  try {
    let attempt = 0;
    for (;;) {
      if (opts.signal.aborted) return stopped(save, { exitCode: EXIT_CODES.ok, code: 'SHUTDOWN', message: 'stopped' });
      save({ connected: false, since: null, nextRetryAt: null });
      session = new RelaySession({
        relayBase,
        relayOrigin: config.relayOrigin,
        instanceId: config.instanceId,
        name: config.name,
        key: currentKey(),
        ca,
        daemon,
        shares: () => shares,
        workspaces,
        log,
        handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
        drainMs: opts.drainMs ?? 5_000,
      });
      session.onWelcome = () => save({ connected: true, since: new Date().toISOString(), lastError: null });
      const end = await session.run(opts.signal);
      session = undefined;
      if (end.shutdown || opts.signal.aborted) return stopped(save, { exitCode: EXIT_CODES.ok, code: 'SHUTDOWN', message: 'stopped' });
      const fatal = isUnrecoverable(end);
      if (fatal) {
        log.error({ code: end.code, reason: end.message }, `unrecoverable: stopping: ${fatal.advice}`);
        const lastError = fail(end.code, `${end.message} (${fatal.advice})`);
        save({ connected: false, since: null, lastError, ...(end.code === 'CONNECTION_REPLACED' ? { sessionReplaced: { at: lastError!.at, message: lastError!.message } } : {}) });
        return stopped(save, { exitCode: fatal.exitCode, code: end.code, message: `${end.message}: ${fatal.advice}` });
      }
      if (end.welcomedAt !== undefined && Date.now() - end.welcomedAt >= healthyMs) attempt = 0;
      const delay = backoffDelay(attempt, backoff);
      attempt += 1;
      log.warn({ code: end.code, closeCode: end.closeCode, retryInMs: delay, attempt }, 'disconnected from the relay; will reconnect');
      save({ connected: false, since: null, lastError: fail(end.code, end.message), nextRetryAt: new Date(Date.now() + delay).toISOString() });
      await sleep(delay, opts.signal);
    }
  } finally {
    clearInterval(refresh);
    daemon.close();
  }
}

function stopped(save: (p: Partial<ConnectorState>) => void, outcome: RunOutcome): RunOutcome {
  save({ connected: false, since: null, nextRetryAt: null, stoppedAt: new Date().toISOString(), exitCode: outcome.exitCode });
  return outcome;
}

function readCa(config: ConnectorConfig): string | undefined {
  if (!config.tls.ca) return undefined;
  try {
    return readFileSync(config.tls.ca, 'utf8');
  } catch (err) {
    throw new ConnectorFailure('CONFIG_INVALID', `cannot read the CA file ${config.tls.ca}: ${(err as Error).message}`, EXIT_CODES.configInvalid);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
