import { SluiceError } from '@sluice/shared-protocol';

/** The service managers Sluice writes files for: a systemd user unit (Linux) or a launchd agent (macOS). */
export type ServicePlatform = 'systemd' | 'launchd';
export const SERVICE_PLATFORMS: readonly ServicePlatform[] = ['systemd', 'launchd'];

/** The services Sluice installs on an operator's machine; the connector's unit orders itself after the daemon's. */
export const SERVICE_NAMES = { daemon: 'sluice-daemon', connector: 'sluice-connector' } as const;

/** What a service runs, independent of the file format; both formats are rendered from this one description. */
export interface ServiceDescription {
  /** `sluice-daemon`, `sluice-connector`: the unit's name and the agent's label suffix. */
  name: string;
  description: string;
  /** The command that wrote it, for the header (`sluice daemon install-service`). */
  installedBy: string;
  /** Absolute program and its arguments. */
  argv: readonly string[];
  /** The environment, in order; no secret ever goes here (files are mode 644). */
  env: Readonly<Record<string, string>>;
  /** Exit codes that mean "misconfigured": restarting would fail the same way. */
  noRestartExitCodes: readonly number[];
  /** Seconds between SIGTERM and SIGKILL: above the program's own drain bound. */
  stopTimeoutSec: number;
  /** Other Sluice services this one wants started first (only those installed). */
  after: readonly string[];
  /** Extra `#` comment lines for the header (why the values are what they are). */
  notes: readonly string[];
}

/** The first line of every file Sluice writes: install refuses to replace, and uninstall to remove, a file without it. */
export const SERVICE_FILE_MARKER = 'Written by Sluice';

const RESTART_SEC = 5;
const THROTTLE_SEC = 10;

/** Characters no unit file or plist can carry (newlines end a systemd line; XML 1.0 has no control characters). */
function refuseUnsupported(value: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new SluiceError('SERVICE_VALUE_UNSUPPORTED', `${what} holds a control character (newline, tab, ...), which a service file cannot carry: ${JSON.stringify(value)}`);
  }
  if (value.length === 0) throw new SluiceError('SERVICE_VALUE_UNSUPPORTED', `${what} is empty`);
}

/** One `ExecStart=` word, double-quoted: `\` and `"` escaped, `%` (specifiers) and `$` (variables) doubled. */
export function systemdExecWord(value: string, what: string): string {
  refuseUnsupported(value, what);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** One `Environment=` assignment, double-quoted: `\` and `"` escaped, `%` doubled (`$` is not expanded there). */
export function systemdEnvAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SluiceError('SERVICE_VALUE_UNSUPPORTED', `${JSON.stringify(name)} is not an environment variable name`);
  refuseUnsupported(value, name);
  return `"${name}=${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

function header(d: ServiceDescription, comment: (line: string) => string): string[] {
  return [
    `${SERVICE_FILE_MARKER} (${d.installedBy}); \`${d.installedBy.replace('install-service', 'uninstall-service')}\` removes it.`,
    'The paths below are absolute, resolved at install time: re-run install-service after moving node or Sluice (an nvm switch, an upgrade to a new prefix).',
    'PATH is the one install-service ran with: the executors (claude, codex, gemini, git, ...) and bwrap are found on it; re-run install-service after changing it.',
    'No secret is in this file (mode 644): tokens and keys stay in SLUICE_HOME, which the program reads itself.',
    ...d.notes,
  ].map((line) => {
    refuseUnsupported(line, 'a header line');
    return comment(line);
  });
}

/** A systemd user unit (`~/.config/systemd/user/<name>.service`). */
export function renderSystemdUnit(d: ServiceDescription): string {
  const deps = d.after.map((n) => `${n}.service`).join(' ');
  const lines = [
    ...header(d, (l) => `# ${l}`),
    '[Unit]',
    `Description=${d.description}`,
    ...(deps ? [`Wants=${deps}`, `After=${deps}`] : []),
    // Ten quick failures in five minutes: stop retrying and leave the unit failed for `systemctl --user status`.
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${d.argv.map((a, i) => systemdExecWord(a, i === 0 ? 'the node path' : i === 1 ? 'the script path' : 'an argument')).join(' ')}`,
    ...Object.entries(d.env).map(([k, v]) => `Environment=${systemdEnvAssignment(k, v)}`),
    'Restart=on-failure',
    `RestartSec=${RESTART_SEC}`,
    ...(d.noRestartExitCodes.length ? [`RestartPreventExitStatus=${d.noRestartExitCodes.join(' ')}`] : []),
    // SIGTERM to the program only: it drains (finishes running work, then stops its children itself); whatever is
    // left when TimeoutStopSec passes is killed with the whole cgroup.
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${d.stopTimeoutSec}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ];
  return lines.join('\n');
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function xmlString(value: string, what: string): string {
  refuseUnsupported(value, what);
  return `<string>${xml(value)}</string>`;
}

/** The short name launchd files use: `sluice-daemon` → `daemon`. */
export const launchdShortName = (name: string): string => name.replace(/^sluice-/, '');

/** The launchd label of a service: `dev.sluice.daemon`, `dev.sluice.connector`. */
export const launchdLabel = (name: string): string => `dev.sluice.${launchdShortName(name)}`;

/** A launchd agent (`~/Library/LaunchAgents/dev.sluice.<name>.plist`), logging to `logFile`. */
export function renderLaunchdPlist(d: ServiceDescription, logFile: string): string {
  const comment = (l: string) => `<!-- ${xml(l).replace(/--/g, '- -')} -->`;
  const env = Object.entries(d.env).flatMap(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new SluiceError('SERVICE_VALUE_UNSUPPORTED', `${JSON.stringify(k)} is not an environment variable name`);
    return [`    <key>${k}</key>`, `    ${xmlString(v, k)}`];
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    ...header(d, comment),
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${launchdLabel(d.name)}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...d.argv.map((a) => `    ${xmlString(a, 'an argument')}`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env,
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    // launchd has no "do not restart on these codes": any failure restarts, at most once per ThrottleInterval.
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    `  <integer>${THROTTLE_SEC}</integer>`,
    '  <key>ExitTimeOut</key>',
    `  <integer>${d.stopTimeoutSec}</integer>`,
    '  <key>StandardOutPath</key>',
    `  ${xmlString(logFile, 'the log path')}`,
    '  <key>StandardErrorPath</key>',
    `  ${xmlString(logFile, 'the log path')}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
