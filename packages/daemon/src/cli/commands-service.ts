import type { Command } from 'commander';
import { INSTALL_SERVICE_OPTIONS, installServiceCommand, serviceArgv, SERVICE_NAMES, UNINSTALL_SERVICE_OPTIONS, uninstallServiceCommand, formatDuration, type ServiceDescription, type ServiceFlags } from '@sluice/node-kit';
import { loadConfig } from '../config/load.js';
import { resolveRuntimeBase } from '../home/runtime-dir.js';
import { cliHome } from './context.js';
import { DAEMON_EXIT_CODES } from './exit-codes.js';

export const DAEMON_SERVICE_NAME = SERVICE_NAMES.daemon;

/** Seconds past the drain and the cancel grace before the service manager kills what is left. */
const STOP_MARGIN_SEC = 30;

/** The daemon as a service: `daemon start` with this home, runtime folder and PATH, stopped no sooner than it drains. */
function daemonService(env: NodeJS.ProcessEnv): ServiceDescription {
  const home = cliHome();
  const config = loadConfig(home.config);
  const stopMs = config.drainTimeout + config.cancelGrace;
  return {
    name: DAEMON_SERVICE_NAME,
    description: 'Sluice daemon: the local system of record for runs driven by remote planners',
    installedBy: 'sluice daemon install-service',
    argv: serviceArgv(new URL('./main.js', import.meta.url), ['daemon', 'start']),
    env: { SLUICE_HOME: home.root, SLUICE_RUNTIME_DIR: resolveRuntimeBase(env), PATH: env['PATH'] ?? '' },
    noRestartExitCodes: [DAEMON_EXIT_CODES.misconfigured],
    stopTimeoutSec: Math.ceil(stopMs / 1000) + STOP_MARGIN_SEC,
    after: [],
    notes: [
      `The stop timeout is drainTimeout (${formatDuration(config.drainTimeout)}) + cancelGrace (${formatDuration(config.cancelGrace)}) + ${STOP_MARGIN_SEC}s from ${home.config}: re-run install-service after changing them.`,
      'No sandbox-narrowing settings (NoNewPrivileges, RestrictNamespaces, PrivateUsers, SystemCallFilter, Protect*): every attempt runs in bubblewrap, which needs user namespaces (and its setuid bit where the kernel forbids them to users).',
    ],
  };
}

/** `daemon install-service`, `daemon uninstall-service`. */
export function registerServiceCommands(daemon: Command): void {
  const install = daemon
    .command('install-service')
    .description('Run the daemon as a service: write a systemd user unit (Linux) or a launchd agent (macOS) that runs `sluice daemon start` with this SLUICE_HOME and PATH; see docs/SERVICES.md');
  for (const [flags, help] of INSTALL_SERVICE_OPTIONS) install.option(flags, help);
  install.action((o: ServiceFlags) => void process.stdout.write(installServiceCommand(() => daemonService(process.env), o, process.env)));
  const uninstall = daemon.command('uninstall-service').description('Stop the daemon service and remove the file install-service wrote (never a file Sluice did not write, unless --force)');
  for (const [flags, help] of UNINSTALL_SERVICE_OPTIONS) uninstall.option(flags, help);
  uninstall.action((o: ServiceFlags) => void process.stdout.write(uninstallServiceCommand(DAEMON_SERVICE_NAME, o, process.env)));
}
