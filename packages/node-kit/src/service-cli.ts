import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installService, launchdLogFile, renderServiceFile, servicePlatform, uninstallService, type ServiceOutcome } from './service-install.js';
import type { ServiceDescription, ServicePlatform } from './service-unit.js';

/** The flags of `install-service` (`[flags, help]`), the same in every CLI. */
export const INSTALL_SERVICE_OPTIONS: readonly (readonly [string, string])[] = [
  ['--platform <platform>', 'systemd (a user unit) or launchd (an agent); default: launchd on macOS, systemd elsewhere'],
  ['--print', 'print the file and where it would go; write nothing'],
  ['--enable', 'also start it now and at every login (systemctl --user enable --now, launchctl bootstrap)'],
  ['--force', 'replace a file at that path that Sluice did not write'],
  ['--json', 'print JSON'],
];

/** The flags of `uninstall-service`. */
export const UNINSTALL_SERVICE_OPTIONS: readonly (readonly [string, string])[] = [
  ['--platform <platform>', 'systemd or launchd; default: launchd on macOS, systemd elsewhere'],
  ['--force', 'remove a file at that path that Sluice did not write'],
  ['--json', 'print JSON'],
];

export interface ServiceFlags {
  platform?: string;
  print?: boolean;
  enable?: boolean;
  force?: boolean;
  json?: boolean;
}

/** The command line a service runs: this node and the real path of the CLI script (an npm prefix, nvm, a clone). */
export function serviceArgv(cliScript: URL, args: readonly string[]): string[] {
  return [process.execPath, realpathSync(fileURLToPath(cliScript)), ...args];
}

function describe(o: ServiceOutcome, what: string): string {
  const lines = [`${what} ${o.path} (${o.platform})`, ...o.ran.map((c) => `  ran: ${c}`)];
  if (o.next.length) lines.push('next:', ...o.next.map((c) => `  ${c}`));
  return `${lines.join('\n')}\n`;
}

/** `install-service`: the text (or JSON) to print. The description may depend on the platform (which units exist there). */
export function installServiceCommand(describeFor: (platform: ServicePlatform) => ServiceDescription, flags: ServiceFlags, env: NodeJS.ProcessEnv): string {
  const platform = servicePlatform(flags.platform);
  const d = describeFor(platform);
  if (flags.print) {
    const { path, content } = renderServiceFile(d, platform, env);
    return flags.json ? `${JSON.stringify({ platform, path, content }, null, 2)}\n` : `# ${path}\n${content}`;
  }
  const outcome = installService(d, { platform, env, ...(flags.force ? { force: true } : {}), ...(flags.enable ? { enable: true } : {}) });
  const logs = platform === 'systemd' ? `journalctl --user -u ${d.name}` : launchdLogFile(d.name, env);
  if (flags.json) return `${JSON.stringify({ ...outcome, logs }, null, 2)}\n`;
  return `${describe(outcome, outcome.action === 'unchanged' ? 'unchanged:' : 'wrote')}logs: ${logs}\n`;
}

/** `uninstall-service`: the text (or JSON) to print. */
export function uninstallServiceCommand(name: string, flags: ServiceFlags, env: NodeJS.ProcessEnv): string {
  const outcome = uninstallService(name, { platform: servicePlatform(flags.platform), env, ...(flags.force ? { force: true } : {}) });
  if (flags.json) return `${JSON.stringify(outcome, null, 2)}\n`;
  return outcome.action === 'absent' ? `nothing to remove: ${outcome.path} does not exist\n` : describe(outcome, 'removed');
}
