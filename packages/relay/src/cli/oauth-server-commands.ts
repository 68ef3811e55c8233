import type { Command } from 'commander';
import { PLANNER_SCOPES, SluiceError } from '@sluice/shared-protocol';
import { generatePassword } from '../oauth/admin-password.js';
import type { CliContext } from './cli-context.js';
import { iso, listOf, scopesOf } from './cli-context.js';

/** `oauth clients|grants list|revoke`: the built-in authorization server's clients and the grants admins approved. */
export function registerOAuthServerCommands(oauth: Command, cli: CliContext): void {
  const clients = oauth.command('clients').description('MCP clients of the built-in authorization server (--oauth-builtin)');
  clients
    .command('list')
    .description('registered clients and clients known by their metadata document, with their live grants')
    .option('--org <orgId>', 'only clients with grants in this org')
    .action((o: { org?: string }, cmd: Command) =>
      cli.withOAuthAdmin(cmd, async (admin) => {
        const list = (await admin.listClients(o.org)).map((c) => ({ ...c, expiresAt: iso(c.expiresAt) }));
        cli.print(cmd, { clients: list }, () => list.map((c) => `${c.clientId}  ${c.name ?? '-'}  ${c.kind}  grants=${c.grants}${c.revoked ? '  REVOKED' : ''}`).join('\n') || '(none)');
      }),
    );
  clients
    .command('revoke <clientId>')
    .description('refuse the client from now on and revoke all its grants')
    .action((clientId: string, _o: unknown, cmd: Command) =>
      cli.withOAuthAdmin(cmd, async (admin) => {
        const r = await admin.revokeClient(clientId, cli.caller());
        cli.print(cmd, { clientId, revoked: true, ...r }, () => `revoked ${clientId} (${r.grantsRevoked} grants revoked)`);
      }),
    );

  const grants = oauth.command('grants').description('what org admins approved for MCP clients');
  grants
    .command('list')
    .option('--org <orgId>', 'only this org')
    .action((o: { org?: string }, cmd: Command) =>
      cli.withOAuthAdmin(cmd, async (admin) => {
        const list = (await admin.listGrants(o.org)).map((g) => ({ ...g, createdAt: iso(g.createdAt), revokedAt: iso(g.revokedAt) }));
        cli.print(cmd, { grants: list }, () => list.map((g) => `${g.id}  ${g.orgId}  ${g.clientName}  ${g.scopes.join(',')}${g.revokedAt ? `  revoked ${g.revokedAt}` : ''}`).join('\n') || '(none)');
      }),
    );
  grants
    .command('revoke <grantId>')
    .description('refuse every token of the grant at once')
    .action((grantId: string, _o: unknown, cmd: Command) =>
      cli.withOAuthAdmin(cmd, async (admin) => {
        const r = await admin.revokeGrant(grantId, cli.caller());
        cli.print(cmd, { grantId, revoked: true, changed: r.changed }, () => (r.changed ? `revoked ${grantId} (a running relay refuses its tokens on their next use)` : `${grantId} was already revoked`));
      }),
    );
}

/** `admin create`: a person who approves MCP clients on the consent page. */
export function registerAdminCommands(program: Command, cli: CliContext): void {
  const admin = program.command('admin').description('org admins who approve MCP clients on the consent page (--oauth-builtin)');
  admin
    .command('create <name>')
    .description('create an admin; prints a generated password once unless --password-env names a variable holding one')
    .requiredOption('--org <orgIds>', 'orgs this admin may grant, comma-separated')
    .option('--scopes <scopes>', 'the most this admin may grant', PLANNER_SCOPES.join(','))
    .option('--password-env <VAR>', 'take the password from this environment variable (at least 12 characters)')
    .action((name: string, o: { org: string; scopes: string; passwordEnv?: string }, cmd: Command) =>
      cli.withOAuthAdmin(cmd, async (oauth) => {
        const given = o.passwordEnv ? cli.io.env[o.passwordEnv] : undefined;
        if (o.passwordEnv && !given) throw new SluiceError('INVALID_INPUT', `The variable ${o.passwordEnv} is not set.`);
        const password = given ?? generatePassword();
        const account = await oauth.createAdminAccount({ name, password, orgIds: listOf(o.org), scopes: scopesOf(o.scopes) }, cli.caller());
        const shown = given ? {} : { password };
        cli.print(cmd, { id: account.id, name: account.name, orgIds: account.orgIds, scopes: account.scopes, ...shown }, () => `created admin ${account.name} (${account.id})${given ? '' : `\npassword (shown once): ${password}`}`);
      }),
    );
  admin
    .command('list')
    .action((_o: unknown, cmd: Command) =>
      cli.withStore(cmd, async (store) => {
        const list = (await store.listAdminAccounts()).map((a) => ({ id: a.id, name: a.name, orgIds: a.orgIds, scopes: a.scopes, createdAt: iso(a.createdAt) }));
        cli.print(cmd, { admins: list }, () => list.map((a) => `${a.id}  ${a.name}  ${a.orgIds.join(',')}  ${a.scopes.join(',')}`).join('\n') || '(none)');
      }),
    );
}
