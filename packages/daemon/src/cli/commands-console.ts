import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { SluiceError } from '@sluice/shared-protocol';
import { callDaemon, cliHome, daemonFailure } from './context.js';
import { printJson, printTable } from './output.js';

/** The console needs the running daemon: sessions and links live there. */
async function daemonCall(method: string, path: string): Promise<unknown> {
  const r = await callDaemon(cliHome(), method, path);
  if (!r) throw new SluiceError('DAEMON_UNAVAILABLE', 'No daemon answers on this home; start it with `sluice daemon start`.');
  if (r.status >= 300) daemonFailure(r);
  return r.body;
}

/** Hand the link to the desktop's browser when there is one; quietly do nothing otherwise. */
function openInBrowser(url: string): boolean {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? null : 'xdg-open';
  if (!opener || (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY'])) return false;
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true, shell: false });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** `sluice ui`: a one-time sign-in link to the console; `ui sessions`, `ui revoke <id>`. */
export function registerConsoleCommands(program: Command): void {
  const ui = program
    .command('ui')
    .description('Print (and open) a one-time sign-in link to the operator console at /ui')
    .option('--no-open', 'only print the link')
    .option('--json', 'print JSON')
    .action(async (o: { open: boolean; json?: boolean }) => {
      const link = (await daemonCall('POST', '/api/v1/console/links')) as { url: string; expiresAt: string };
      const opened = o.open && openInBrowser(link.url);
      if (o.json) return printJson({ ...link, opened });
      process.stdout.write(`Sign in to the Sluice console (the link works once, until ${link.expiresAt}):\n  ${link.url}\n${opened ? 'Opened in your browser.\n' : ''}`);
    });
  ui.command('sessions')
    .description('List console sessions')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      // `ui` has a --json of its own, which commander gives to it wherever it stands.
      const o = cmd.optsWithGlobals<{ json?: boolean }>();
      const { sessions } = (await daemonCall('GET', '/api/v1/console/sessions')) as { sessions: { sessionId: string; actor: string; createdAt: string; lastSeenAt: string; expiresAt: string; revokedAt: string | null; userAgent: string }[] };
      if (o.json) return printJson({ sessions });
      if (sessions.length === 0) return void process.stdout.write('no console sessions\n');
      printTable([['SESSION', 'ACTOR', 'CREATED', 'LAST SEEN', 'EXPIRES', 'STATE'], ...sessions.map((s) => [s.sessionId, s.actor, s.createdAt, s.lastSeenAt, s.expiresAt, s.revokedAt ? 'revoked' : 'live'])]);
    });
  ui.command('revoke <sessionId>')
    .description('Revoke a console session (the page is signed out at its next call)')
    .action(async (id: string) => {
      await daemonCall('DELETE', `/api/v1/console/sessions/${encodeURIComponent(id)}`);
      process.stdout.write(`revoked ${id}\n`);
    });
}
