import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MISCONFIGURED_EXIT_CODES } from '@sluice/connector';
import { DAEMON_EXIT_CODES } from '@sluice/daemon';
import { parsePlist, parseUnitFile, requireSystemdAnalyze, systemdVerify, unitValue, unitWords, waitUntil, type PlistValue } from '@sluice/test-kit';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROGRAMS = {
  daemon: { bin: join(ROOT, 'packages/daemon/dist/cli/main.js'), install: ['daemon', 'install-service'], uninstall: ['daemon', 'uninstall-service'], name: 'sluice-daemon', short: 'daemon', args: ['daemon', 'start'] },
  connector: { bin: join(ROOT, 'packages/connector/dist/cli/main.js'), install: ['install-service'], uninstall: ['uninstall-service'], name: 'sluice-connector', short: 'connector', args: ['run'] },
} as const;
type Program = keyof typeof PROGRAMS;

const analyze = requireSystemdAnalyze();
const scratch = mkdtempSync(join(tmpdir(), 'sluice-services-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A HOME whose path needs every kind of quoting a unit file has: a space, `%`, `$`, a backslash, a quote. */
function freshHome(label: string): { HOME: string; SLUICE_HOME: string; XDG_CONFIG_HOME: string } {
  const HOME = join(mkdtempSync(join(scratch, `${label}-`)), 'my home %h $USER \\ "q"');
  mkdirSync(HOME, { recursive: true });
  return { HOME, SLUICE_HOME: join(HOME, '.sluice'), XDG_CONFIG_HOME: join(HOME, '.config') };
}

function cli(program: Program, args: readonly string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  // A private XDG_RUNTIME_DIR: no user bus, so no systemctl call reaches a real user manager from a test.
  const r = spawnSync(process.execPath, [PROGRAMS[program].bin, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', XDG_RUNTIME_DIR: join(scratch, 'no-bus'), ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function printed(program: Program, platform: 'systemd' | 'launchd', env: Record<string, string>): { path: string; content: string } {
  const r = cli(program, [...PROGRAMS[program].install, '--print', '--json', '--platform', platform], env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { path: string; content: string };
}

function verified(content: string, mode: 'user' | 'system', name: string): string {
  if ('skip' in analyze) return '';
  const dir = mkdtempSync(join(scratch, 'verify-'));
  const file = join(dir, name);
  writeFileSync(file, content);
  const { problems, dump } = systemdVerify(analyze.path, file, mode);
  expect(problems).toEqual([]);
  return dump;
}

describe.each(['daemon', 'connector'] as const)('%s install-service --print', (program) => {
  const p = PROGRAMS[program];

  it('renders a systemd user unit that systemd-analyze verifies, with every value quoted as systemd reads it', () => {
    const env = freshHome(`${program}-print`);
    // Secrets in the installing shell stay out: the unit names only the variables it needs.
    const { path, content } = printed(program, 'systemd', { ...env, ANTHROPIC_API_KEY: 'sk-ant-do-not-copy', SLUICE_ENROLLMENT_TOKEN: 'slc_enr_do_not_copy' });
    expect(content).not.toMatch(/do.not.copy/);
    expect(path).toBe(join(env.XDG_CONFIG_HOME, 'systemd', 'user', `${p.name}.service`));
    expect(existsSync(path)).toBe(false);
    const unit = parseUnitFile(content);
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(unitWords(unitValue(unit, 'Service', 'ExecStart'), true)).toEqual([process.execPath, realpathSync(p.bin), ...p.args]);
    const vars = Object.fromEntries(unit.get('Service')!.get('Environment')!.map((e) => unitWords(e, false)[0]!.split(/=(.*)/s).slice(0, 2)));
    expect(vars['SLUICE_HOME']).toBe(env.SLUICE_HOME);
    expect(vars['PATH']).toBe(process.env['PATH']);
    if (program === 'connector') expect(vars['SLUICE_CONNECTOR_CONFIG']).toBe(join(env.SLUICE_HOME, 'connector.json'));
    expect(unitValue(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(unitValue(unit, 'Service', 'KillMode')).toBe('mixed');
    const noRestart = program === 'daemon' ? [DAEMON_EXIT_CODES.misconfigured] : MISCONFIGURED_EXIT_CODES;
    expect(unitValue(unit, 'Service', 'RestartPreventExitStatus').split(' ').map(Number)).toEqual(noRestart);
    // Above the drain: the daemon's default drainTimeout is 10 minutes, the connector's run drains for 10 s.
    expect(Number(unitValue(unit, 'Service', 'TimeoutStopSec'))).toBeGreaterThan(program === 'daemon' ? 600 : 10);
    expect(unitValue(unit, 'Install', 'WantedBy')).toBe('default.target');
    expect(unit.get('Unit')!.has('Wants')).toBe(false);
    // Nothing that takes user namespaces (or a setuid bwrap) from the daemon's sandbox.
    for (const key of ['NoNewPrivileges', 'RestrictNamespaces', 'PrivateUsers', 'SystemCallFilter', 'ProtectSystem', 'ProtectHome', 'PrivateTmp']) expect(unit.get('Service')!.has(key)).toBe(false);
    const dump = verified(content, 'user', `${p.name}.service`);
    if (dump) {
      expect(dump).toContain(`Environment: SLUICE_HOME=${env.SLUICE_HOME}`);
      expect(dump).toMatch(new RegExp(`Command Line: \\S*${process.execPath.replace(/[/.]/g, '\\$&')}`));
    }
  });

  it('renders a launchd agent: well-formed plist with the paths, the restart policy and the log file', () => {
    const env = freshHome(`${program}-plist`);
    const { path, content } = printed(program, 'launchd', env);
    expect(path).toBe(join(env.HOME, 'Library', 'LaunchAgents', `dev.sluice.${p.short}.plist`));
    const plist = parsePlist(content) as Record<string, PlistValue>;
    const log = join(env.HOME, 'Library', 'Logs', 'sluice', `${p.short}.log`);
    expect(plist).toMatchObject({ Label: `dev.sluice.${p.short}`, RunAtLoad: true, KeepAlive: { SuccessfulExit: false }, StandardOutPath: log, StandardErrorPath: log });
    expect(plist['ProgramArguments']).toEqual([process.execPath, realpathSync(p.bin), ...p.args]);
    expect((plist['EnvironmentVariables'] as Record<string, string>)['SLUICE_HOME']).toBe(env.SLUICE_HOME);
    expect(typeof plist['ThrottleInterval']).toBe('number');
    expect(plist['ExitTimeOut']).toBeGreaterThan(10);
    // launchd cannot order agents, so the file never tells the operator to re-run install-service for that.
    expect(content).not.toMatch(/to order the two/);
  });
});

describe('install-service writes and uninstall-service removes', () => {
  it.each(['daemon', 'connector'] as const)('%s: mode 644, idempotent, refuses a foreign file without --force, removes only its own', (program) => {
    const p = PROGRAMS[program];
    const env = freshHome(`${program}-install`);
    const expected = printed(program, 'systemd', env);
    const first = cli(program, [...p.install, '--platform', 'systemd', '--json'], env);
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toMatchObject({ action: 'installed', path: expected.path, next: ['systemctl --user daemon-reload', `systemctl --user enable --now ${p.name}.service`], logs: `journalctl --user -u ${p.name}` });
    expect(readFileSync(expected.path, 'utf8')).toBe(expected.content);
    expect(statSync(expected.path).mode & 0o777).toBe(0o644);
    expect(JSON.parse(cli(program, [...p.install, '--platform', 'systemd', '--json'], env).stdout)).toMatchObject({ action: 'unchanged' });

    writeFileSync(expected.path, '[Service]\nExecStart=/bin/true\n');
    const refused = cli(program, [...p.install, '--platform', 'systemd'], env);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('SERVICE_FILE_FOREIGN');
    expect(cli(program, [...p.uninstall, '--platform', 'systemd'], env).stderr).toContain('SERVICE_FILE_FOREIGN');
    expect(readFileSync(expected.path, 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
    // Replacing a file: the running service keeps its old settings until restarted, and install says so.
    expect(JSON.parse(cli(program, [...p.install, '--platform', 'systemd', '--force', '--json'], env).stdout).next).toContain(`systemctl --user restart ${p.name}.service  # if it is running`);
    expect(readFileSync(expected.path, 'utf8')).toBe(expected.content);

    const removed = cli(program, [...p.uninstall, '--platform', 'systemd', '--json'], env);
    expect(JSON.parse(removed.stdout)).toMatchObject({ action: 'removed', path: expected.path });
    expect(existsSync(expected.path)).toBe(false);
    expect(JSON.parse(cli(program, [...p.uninstall, '--platform', 'systemd', '--json'], env).stdout)).toMatchObject({ action: 'absent' });
  });

  it('a launchd agent goes to ~/Library/LaunchAgents, with the log folder made', () => {
    const env = freshHome('launchd-install');
    const r = cli('daemon', ['daemon', 'install-service', '--platform', 'launchd', '--json'], env);
    const out = JSON.parse(r.stdout) as { path: string; next: string[] };
    expect(statSync(out.path).mode & 0o777).toBe(0o644);
    expect(out.next).toEqual([`launchctl bootstrap gui/${process.getuid?.()} ${`'${out.path}'`.replace(/"/g, '"')}`]);
    expect(statSync(join(env.HOME, 'Library', 'Logs', 'sluice')).isDirectory()).toBe(true);
    expect(cli('daemon', ['daemon', 'uninstall-service', '--platform', 'launchd'], env).status).toBe(0);
    expect(existsSync(out.path)).toBe(false);
  });

  it('the connector unit wants the daemon unit once that is installed', () => {
    const env = freshHome('ordered');
    expect(parseUnitFile(printed('connector', 'systemd', env).content).get('Unit')!.has('Wants')).toBe(false);
    expect(cli('daemon', ['daemon', 'install-service', '--platform', 'systemd'], env).status).toBe(0);
    const unit = parseUnitFile(printed('connector', 'systemd', env).content);
    expect(unitValue(unit, 'Unit', 'Wants')).toBe('sluice-daemon.service');
    expect(unitValue(unit, 'Unit', 'After')).toBe('sluice-daemon.service');
  });

  it('a value a unit cannot carry is refused with a clear error, and nothing is written', () => {
    const env = { ...freshHome('newline'), SLUICE_HOME: join(scratch, 'bad\nhome') };
    const r = cli('daemon', ['daemon', 'install-service', '--platform', 'systemd'], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('SERVICE_VALUE_UNSUPPORTED');
    expect(existsSync(join(env.XDG_CONFIG_HOME, 'systemd', 'user', 'sluice-daemon.service'))).toBe(false);
  });
});

describe('the relay system unit example', () => {
  const content = readFileSync(join(ROOT, 'packaging/systemd/sluice-relay.service'), 'utf8');

  it('verifies as a system unit and has the hardening a public server needs', () => {
    verified(content, 'system', 'sluice-relay.service');
    const unit = parseUnitFile(content);
    const service = unit.get('Service')!;
    expect(unitValue(unit, 'Service', 'User')).toBe('sluice-relay');
    expect(unitValue(unit, 'Service', 'StateDirectory')).toBe('sluice-relay');
    expect(unitValue(unit, 'Service', 'ExecStart')).toMatch(/^\/usr\/bin\/env sluice-relay start /);
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['CapabilityBoundingSet', ''], ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'], ['SystemCallFilter', '@system-service']]) {
      expect(unitValue(unit, 'Service', key!), key).toBe(value);
    }
    // V8's JIT cannot run under it (node aborts under the kernel's PR_SET_MDWE).
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });
});

describe('the exit codes the units do not restart', () => {
  it('daemon start with an invalid config.json exits misconfigured (78), which RestartPreventExitStatus names', () => {
    const env = freshHome('misconfigured');
    mkdirSync(env.SLUICE_HOME, { recursive: true, mode: 0o700 });
    writeFileSync(join(env.SLUICE_HOME, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, workspaces: {}, unknownKey: true }), { mode: 0o600 });
    const r = cli('daemon', ['daemon', 'start'], { ...env, SLUICE_RUNTIME_DIR: join(scratch, 'runtime') });
    expect(r.stderr).toContain('BAD_REQUEST');
    expect(r.status).toBe(DAEMON_EXIT_CODES.misconfigured);
  });
});

describe('what the unit runs', () => {
  it('the daemon unit\'s ExecStart and Environment alone start the daemon, which answers status and drains on SIGTERM', async () => {
    const env = freshHome('runs');
    mkdirSync(env.SLUICE_HOME, { recursive: true, mode: 0o700 });
    writeFileSync(join(env.SLUICE_HOME, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, workspaces: {} }), { mode: 0o600 });
    const unit = parseUnitFile(printed('daemon', 'systemd', env).content);
    const [program, ...args] = unitWords(unitValue(unit, 'Service', 'ExecStart'), true);
    const unitEnv = Object.fromEntries(unit.get('Service')!.get('Environment')!.map((e) => unitWords(e, false)[0]!.split(/=(.*)/s).slice(0, 2)));
    // What a systemd user manager adds of its own: HOME (and USER, LOGNAME, SHELL, XDG_RUNTIME_DIR, none needed).
    const child = spawn(program!, args, { env: { ...unitEnv, HOME: env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
    child.stderr.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil(() => logs.includes('sluice daemon listening') || child.exitCode !== null, { what: 'the daemon to listen' });
    expect(logs).toContain('sluice daemon listening');
    expect(JSON.parse(cli('daemon', ['status', '--json'], { HOME: env.HOME, SLUICE_HOME: env.SLUICE_HOME }).stdout)).toMatchObject({ running: true, pid: child.pid });
    child.kill(unitValue(unit, 'Service', 'KillSignal') as NodeJS.Signals);
    expect(await exited).toBe(0);
  });

  it('with a reachable user manager, install runs daemon-reload and --enable runs enable --now (argv, no shell); a refusal is SERVICE_MANAGER_FAILED', () => {
    const env = freshHome('manager');
    const bin = join(scratch, 'fake-systemctl');
    mkdirSync(bin, { recursive: true });
    const calls = join(bin, 'calls');
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\ncase "$*" in *enable*) [ -n "$REFUSE" ] && { echo 'Access denied' >&2; exit 1; };; esac\nexit 0\n`);
    chmodSync(join(bin, 'systemctl'), 0o755);
    const withManager = { ...env, PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
    const r = cli('connector', ['install-service', '--platform', 'systemd', '--enable', '--json'], withManager);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'installed', ran: ['systemctl --user daemon-reload', 'systemctl --user enable --now sluice-connector.service'], next: [] });
    expect(readFileSync(calls, 'utf8').split('\n').filter((l) => l !== 'show-environment' && l !== '--user show-environment')).toEqual(['--user daemon-reload', '--user enable --now sluice-connector.service', '']);
    const refused = cli('daemon', ['daemon', 'install-service', '--platform', 'systemd', '--enable'], { ...withManager, REFUSE: '1' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('SERVICE_MANAGER_FAILED');
    expect(refused.stderr).toContain('Access denied');
    rmSync(calls);
    expect(cli('connector', ['uninstall-service', '--platform', 'systemd'], withManager).status).toBe(0);
    expect(readFileSync(calls, 'utf8')).toBe('--user show-environment\n--user disable --now sluice-connector.service\n--user daemon-reload\n');
  });
});
