import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';
import { iso } from './cli-context.js';

export function registerOrgCommands(program: Command, cli: CliContext): void {
  const org = program.command('org').description('manage orgs');
  org
    .command('create <name>')
    .description('create an org')
    .action((name: string, _o: unknown, cmd: Command) =>
      cli.withAdmin(cmd, async (admin) => {
        const rec = await admin.createOrg(name, cli.caller());
        cli.print(cmd, { orgId: rec.id, name: rec.name }, () => `${rec.id}  ${rec.name}`);
      }),
    );
  org
    .command('list')
    .description('list orgs')
    .action((_o: unknown, cmd: Command) =>
      cli.withStore(cmd, async (store) => {
        const orgs = (await store.listOrgs()).map((r) => ({ orgId: r.id, name: r.name, createdAt: iso(r.createdAt) }));
        cli.print(cmd, { orgs }, () => orgs.map((r) => `${r.orgId}  ${r.name}`).join('\n') || '(no orgs)');
      }),
    );
}
