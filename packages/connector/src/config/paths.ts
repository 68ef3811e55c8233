import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** `SLUICE_HOME`, default `~/.sluice`. */
export function sluiceHome(env: NodeJS.ProcessEnv): string {
  const home = env['SLUICE_HOME'];
  return home && home.length > 0 ? resolve(home) : join(homedir(), '.sluice');
}

/** The connector config path: `SLUICE_CONNECTOR_CONFIG` or `$SLUICE_HOME/connector.json`. */
export function connectorConfigPath(env: NodeJS.ProcessEnv): string {
  const explicit = env['SLUICE_CONNECTOR_CONFIG'];
  return explicit && explicit.length > 0 ? resolve(explicit) : join(sluiceHome(env), 'connector.json');
}

/** The state file `run` writes next to the config and `status` reads. */
export function connectorStatePath(configPath: string): string {
  return join(dirname(configPath), 'connector.state.json');
}
