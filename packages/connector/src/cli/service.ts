import { isSluiceServiceFile, serviceArgv, SERVICE_NAMES, serviceFilePath, type ServiceDescription, type ServicePlatform } from '@sluice/node-kit';
import { sluiceHome } from '../config/paths.js';
import { MISCONFIGURED_EXIT_CODES } from '../errors/exit-codes.js';

export const CONNECTOR_SERVICE_NAME = SERVICE_NAMES.connector;
const DAEMON_SERVICE_NAME = SERVICE_NAMES.daemon;

/** The session bounds its own drain; this is the outer bound `main` gives it after SIGTERM. */
export const RUN_DRAIN_TIMEOUT_MS = 10_000;
/** Above the drain bound and the two seconds `main` waits for stray handles. */
const STOP_TIMEOUT_SEC = Math.ceil(RUN_DRAIN_TIMEOUT_MS / 1000) + 20;

/**
 * The connector as a service: `run` with this config path, SLUICE_HOME and PATH. Under systemd it wants the daemon's
 * unit when that one is installed (the connector also waits for a daemon that starts later: it retries).
 */
export function connectorService(platform: ServicePlatform, configPath: string, env: NodeJS.ProcessEnv): ServiceDescription {
  // launchd has no ordering between agents; the connector's retries cover a daemon that starts later there.
  const orders = platform === 'systemd';
  const withDaemon = orders && isSluiceServiceFile(serviceFilePath(platform, DAEMON_SERVICE_NAME, env));
  return {
    name: CONNECTOR_SERVICE_NAME,
    description: "Sluice connector: the daemon's only remote door (one outbound websocket to the relay)",
    installedBy: 'sluice-connector install-service',
    argv: serviceArgv(new URL('./main.js', import.meta.url), ['run']),
    env: { SLUICE_HOME: sluiceHome(env), SLUICE_CONNECTOR_CONFIG: configPath, PATH: env['PATH'] ?? '' },
    noRestartExitCodes: MISCONFIGURED_EXIT_CODES,
    stopTimeoutSec: STOP_TIMEOUT_SEC,
    after: withDaemon ? [DAEMON_SERVICE_NAME] : [],
    notes: [
      `The private key stays in ${configPath} (mode 600); only its path is here.`,
      ...(!orders || withDaemon ? [] : ['No sluice-daemon unit was installed when this was written: re-run install-service after `sluice daemon install-service` to order the two.']),
    ],
  };
}
