import type { Command } from 'commander';
import { SCOPES } from '@sluice/shared-protocol';
import { parseDuration } from './listen-guard.js';
import type { CliContext } from './cli-context.js';
import { iso, listOf, scopesOf } from './cli-context.js';

/** Planner tokens (`token`) and connector enrollment tokens (`enroll-token`). */
export function registerTokenCommands(program: Command, cli: CliContext): void {
  const token = program.command('token').description('manage planner tokens (slc_pat_…)');
  token
    .command('create')
    .description('create a planner token; the secret is shown once')
    .requiredOption('--org <orgId>', 'org of the token')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(',')}`)
    .option('--instances <list>', 'comma-separated instance ids this token may reach (default all of the org)')
    .option('--expires-in <duration>', 'e.g. 30d, 12h')
    .action((o: { org: string; name: string; scopes: string; instances?: string; expiresIn?: string }, cmd: Command) =>
      cli.withAdmin(cmd, async (admin) => {
        const input = {
          orgId: o.org,
          name: o.name,
          scopes: scopesOf(o.scopes),
          instanceAllowlist: o.instances ? listOf(o.instances) : null,
          expiresAt: o.expiresIn ? Date.now() + parseDuration(o.expiresIn) : null,
        };
        const { record, secret } = await admin.createToken(input, cli.caller());
        cli.print(cmd, { tokenId: record.id, orgId: record.orgId, token: secret, scopes: record.scopes, expiresAt: iso(record.expiresAt) }, () =>
          [`token id: ${record.id}`, `token:    ${secret}`, 'Store it now: it is shown only once.'].join('\n'),
        );
      }),
    );
  token
    .command('list')
    .description('list planner tokens (never their secrets)')
    .option('--org <orgId>', 'only this org')
    .action((o: { org?: string }, cmd: Command) =>
      cli.withStore(cmd, async (store) => {
        const tokens = (await store.listTokens(o.org)).map((r) => ({
          tokenId: r.id,
          orgId: r.orgId,
          name: r.name,
          scopes: r.scopes,
          instances: r.instanceAllowlist,
          expiresAt: iso(r.expiresAt),
          revokedAt: iso(r.revokedAt),
          lastUsedAt: iso(r.lastUsedAt),
        }));
        cli.print(cmd, { tokens }, () => tokens.map((r) => `${r.tokenId}  ${r.name}  ${r.scopes.join(',')}${r.revokedAt ? '  (revoked)' : ''}`).join('\n') || '(no tokens)');
      }),
    );
  token
    .command('revoke <tokenId>')
    .description('revoke a planner token')
    .action((id: string, _o: unknown, cmd: Command) =>
      cli.withAdmin(cmd, async (admin) => {
        await admin.revokeToken(id, cli.caller());
        cli.print(cmd, { tokenId: id, revoked: true }, () => `revoked ${id}`);
      }),
    );

  program
    .command('enroll-token')
    .description('enrollment tokens (slc_enr_…)')
    .command('create')
    .description('create a single-use enrollment token for a connector')
    .requiredOption('--org <orgId>', 'org the instance will belong to')
    .option('--ttl-minutes <n>', 'minutes until it expires', '15')
    .action((o: { org: string; ttlMinutes: string }, cmd: Command) =>
      cli.withAdmin(cmd, async (admin) => {
        const enr = await admin.createEnrollmentToken(o.org, Number(o.ttlMinutes), cli.caller());
        cli.print(cmd, { token: enr.secret, expiresAt: iso(enr.expiresAt) }, () => `${enr.secret}\nsingle use, expires ${iso(enr.expiresAt)}`);
      }),
    );
}
