import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';
import { iso } from './cli-context.js';
import { registerOAuthServerCommands } from './oauth-server-commands.js';

export function registerOAuthCommands(program: Command, cli: CliContext): void {
  const oauth = program.command('oauth').description('OAuth: subjects of an outside issuer; clients and grants of the built-in authorization server');
  registerOAuthServerCommands(oauth, cli);
  oauth
    .command('revoke-subject <subject>')
    .description('refuse every access token of this subject at once, whatever its expiry')
    .requiredOption('--issuer <url>', 'the issuer exactly as configured (--oauth-issuer)')
    .action((subject: string, o: { issuer: string }, cmd: Command) =>
      cli.withAdmin(cmd, async (admin) => {
        await admin.revokeOAuthSubject(o.issuer, subject, cli.caller());
        cli.print(cmd, { issuer: o.issuer, subject, revoked: true }, () => `revoked ${subject} of ${o.issuer} (a running relay refuses its tokens on their next use)`);
      }),
    );
  oauth
    .command('restore-subject <subject>')
    .description('accept a revoked subject again')
    .requiredOption('--issuer <url>', 'the issuer exactly as configured (--oauth-issuer)')
    .action((subject: string, o: { issuer: string }, cmd: Command) =>
      cli.withAdmin(cmd, async (admin) => {
        await admin.restoreOAuthSubject(o.issuer, subject, cli.caller());
        cli.print(cmd, { issuer: o.issuer, subject, revoked: false }, () => `restored ${subject} of ${o.issuer}`);
      }),
    );
  oauth
    .command('list-revoked')
    .description('list revoked OAuth subjects')
    .action((_o: unknown, cmd: Command) =>
      cli.withStore(cmd, async (store) => {
        const subjects = (await store.listRevokedOAuthSubjects()).map((r) => ({ ...r, revokedAt: iso(r.revokedAt) }));
        cli.print(cmd, { subjects }, () => subjects.map((r) => `${r.issuer}  ${r.subject}  ${r.revokedAt}  ${r.revokedBy}`).join('\n') || '(none)');
      }),
    );
}
