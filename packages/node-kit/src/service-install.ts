import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SluiceError } from '@sluice/shared-protocol';
import { launchdLabel, launchdShortName, renderLaunchdPlist, renderSystemdUnit, SERVICE_FILE_MARKER, SERVICE_PLATFORMS, type ServiceDescription, type ServicePlatform } from './service-unit.js';

/** How install-service and uninstall-service are called. */
export interface ServiceOptions {
  platform: ServicePlatform;
  /** Replace (or remove) a file Sluice did not write. */
  force?: boolean;
  /** Also start it now and at every login (`systemctl --user enable --now`, `launchctl bootstrap`). */
  enable?: boolean;
  env: NodeJS.ProcessEnv;
}

/** What install/uninstall did: the file, the service-manager commands it ran, and the ones left to the user. */
export interface ServiceOutcome {
  action: 'installed' | 'unchanged' | 'removed' | 'absent';
  platform: ServicePlatform;
  path: string;
  ran: string[];
  next: string[];
}

/** `--platform`, default from the running OS. */
export function servicePlatform(value: string | undefined, os: NodeJS.Platform = process.platform): ServicePlatform {
  if (value === undefined) return os === 'darwin' ? 'launchd' : 'systemd';
  if (!(SERVICE_PLATFORMS as readonly string[]).includes(value)) throw new SluiceError('BAD_REQUEST', `--platform must be one of ${SERVICE_PLATFORMS.join(', ')}, not ${JSON.stringify(value)}`);
  return value as ServicePlatform;
}

const homeOf = (env: NodeJS.ProcessEnv): string => (env['HOME'] && env['HOME'].length > 0 ? env['HOME'] : homedir());

/** `$XDG_CONFIG_HOME/systemd/user/<name>.service` (default `~/.config`), or `~/Library/LaunchAgents/<label>.plist`. */
export function serviceFilePath(platform: ServicePlatform, name: string, env: NodeJS.ProcessEnv): string {
  if (platform === 'launchd') return join(homeOf(env), 'Library', 'LaunchAgents', `${launchdLabel(name)}.plist`);
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homeOf(env), '.config'), 'systemd', 'user', `${name}.service`);
}

/** Where a launchd agent's stdout and stderr go: `~/Library/Logs/sluice/daemon.log`, `connector.log`. */
export const launchdLogFile = (name: string, env: NodeJS.ProcessEnv): string => join(homeOf(env), 'Library', 'Logs', 'sluice', `${launchdShortName(name)}.log`);

/** The file a service would be written to and its content. */
export function renderServiceFile(d: ServiceDescription, platform: ServicePlatform, env: NodeJS.ProcessEnv): { path: string; content: string } {
  const content = platform === 'systemd' ? renderSystemdUnit(d) : renderLaunchdPlist(d, launchdLogFile(d.name, env));
  return { path: serviceFilePath(platform, d.name, env), content };
}

/** Whether a file Sluice wrote is there (the marker is in its header). */
export function isSluiceServiceFile(path: string): boolean {
  if (!existsSync(path)) return false;
  return readFileSync(path, 'utf8').split('\n', 3).some((line) => line.includes(SERVICE_FILE_MARKER));
}

function refuseForeign(path: string, force: boolean | undefined, verb: string): void {
  if (force || !existsSync(path) || isSluiceServiceFile(path)) return;
  throw new SluiceError('SERVICE_FILE_FOREIGN', `${path} exists and was not written by Sluice; not ${verb} it. Move it away, or pass --force`);
}

/** The commands that make the service manager see, start and stop the file. */
function managerCommands(platform: ServicePlatform, name: string, path: string, env: NodeJS.ProcessEnv) {
  if (platform === 'systemd') {
    const unit = `${name}.service`;
    return {
      reload: ['systemctl', '--user', 'daemon-reload'],
      enable: [['systemctl', '--user', 'enable', '--now', unit]],
      disable: [['systemctl', '--user', 'disable', '--now', unit]],
      afterRemoval: [['systemctl', '--user', 'stop', unit], ['systemctl', '--user', 'daemon-reload']],
      restart: ['systemctl', '--user', 'restart', unit],
      reachable: () => onPath('systemctl', env) && spawnSync('systemctl', ['--user', 'show-environment'], { stdio: 'ignore', env }).status === 0,
    };
  }
  const target = `gui/${process.getuid?.() ?? 501}`;
  return {
    reload: null,
    // bootstrap refuses a label that is loaded: take the old one out first (its failure means it was not loaded).
    enable: [['launchctl', 'bootout', `${target}/${launchdLabel(name)}`], ['launchctl', 'bootstrap', target, path]],
    disable: [['launchctl', 'bootout', `${target}/${launchdLabel(name)}`]],
    afterRemoval: [['launchctl', 'bootout', `${target}/${launchdLabel(name)}`]],
    restart: null,
    reachable: () => process.platform === 'darwin' && onPath('launchctl', env),
  };
}

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '').split(':').some((dir) => dir.startsWith('/') && existsSync(join(dir, program)));
}

const shown = (argv: readonly string[]): string => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

/** Run a service-manager command (argv, no shell); `mayFail` for a bootout of an agent that was not loaded. */
function run(argv: readonly string[], env: NodeJS.ProcessEnv, ran: string[], mayFail = false): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env });
  ran.push(shown(argv));
  if (!mayFail && (r.error || r.status !== 0)) {
    throw new SluiceError('SERVICE_MANAGER_FAILED', `${shown(argv)} failed: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)}`);
  }
}

/** Write the service file (mode 644), tell the service manager, and with `enable` start it. Idempotent. */
export function installService(d: ServiceDescription, o: ServiceOptions): ServiceOutcome {
  const { path, content } = renderServiceFile(d, o.platform, o.env);
  refuseForeign(path, o.force, 'replacing');
  const existed = existsSync(path);
  const unchanged = existed && readFileSync(path, 'utf8') === content;
  if (!unchanged) {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, content, { mode: 0o644 });
    chmodSync(tmp, 0o644);
    renameSync(tmp, path);
  }
  if (o.platform === 'launchd') mkdirSync(dirname(launchdLogFile(d.name, o.env)), { recursive: true });
  const m = managerCommands(o.platform, d.name, path, o.env);
  const ran: string[] = [];
  const reachable = m.reachable();
  if (reachable && m.reload) run(m.reload, o.env, ran);
  if (reachable && o.enable) m.enable.forEach((argv, i) => run(argv, o.env, ran, o.platform === 'launchd' && i === 0));
  const next = reachable && o.enable ? [] : [...(reachable || !m.reload ? [] : [m.reload]), ...m.enable.slice(-1)].map(shown);
  // A running service keeps the settings it started with: systemd restarts it, launchd must unload it first.
  if (existed && !unchanged) {
    if (m.restart) next.push(`${shown(m.restart)}  # if it is running`);
    else if (!(reachable && o.enable)) next.unshift(`${shown(m.enable[0]!)}  # if it is loaded`);
  }
  return { action: unchanged ? 'unchanged' : 'installed', platform: o.platform, path, ran, next };
}

/** The link `systemctl --user enable` made to our file, which a manager we cannot reach did not take away. */
function removeWantsLink(unitPath: string): void {
  const link = join(dirname(unitPath), 'default.target.wants', basename(unitPath));
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === unitPath) rmSync(link);
  } catch {
    // No link.
  }
}

/** Stop and disable the service if the manager knows it, then remove our file (never a foreign one without `force`). */
export function uninstallService(name: string, o: ServiceOptions): ServiceOutcome {
  const path = serviceFilePath(o.platform, name, o.env);
  if (!existsSync(path)) return { action: 'absent', platform: o.platform, path, ran: [], next: [] };
  refuseForeign(path, o.force, 'removing');
  const m = managerCommands(o.platform, name, path, o.env);
  const ran: string[] = [];
  const reachable = m.reachable();
  // Stopping may fail for a unit that never ran; the file goes either way.
  if (reachable) for (const argv of m.disable) run(argv, o.env, ran, true);
  rmSync(path);
  if (o.platform === 'systemd') removeWantsLink(path);
  if (reachable && m.reload) run(m.reload, o.env, ran);
  const next = reachable ? [] : m.afterRemoval.map(shown);
  return { action: 'removed', platform: o.platform, path, ran, next };
}
