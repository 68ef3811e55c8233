import type { Command } from 'commander';
import type { InstanceAction, LiveOutcome } from '../admin/admin-service.js';
import type { CliContext } from './cli-context.js';
import { iso } from './cli-context.js';

const HELP: Readonly<Record<InstanceAction, string>> = {
  disable: 'refuse the instance until enabled again (its key is kept)',
  enable: 'accept a disabled instance again',
  revoke: 'delete the instance key; it must enroll again',
};

function liveLine(live: LiveOutcome, state: string): string {
  if (state === 'active') return '';
  if (!live.reached) return ` (${live.why}; a relay started later refuses it, one on another database at its next heartbeat)`;
  return live.closed > 0 ? ' (the running relay closed its live session)' : ' (it had no live session on the running relay)';
}

export function registerInstanceCommands(program: Command, cli: CliContext): void {
  const instance = program.command('instance').description('manage connector instances');
  instance
    .command('list')
    .description('list instances')
    .option('--org <orgId>', 'only this org')
    .action((o: { org?: string }, cmd: Command) =>
      cli.withStore(cmd, async (store) => {
        const instances = (await store.listInstances(o.org)).map((r) => ({ instanceId: r.id, orgId: r.orgId, name: r.name, state: r.state, lastSeenAt: iso(r.lastSeenAt) }));
        cli.print(cmd, { instances }, () => instances.map((r) => `${r.instanceId}  ${r.name}  ${r.state}`).join('\n') || '(no instances)');
      }),
    );
  for (const action of Object.keys(HELP) as InstanceAction[]) {
    instance
      .command(`${action} <instanceId>`)
      .description(HELP[action])
      .action((id: string, _o: unknown, cmd: Command) =>
        cli.withAdmin(cmd, async (admin) => {
          const { instance: rec, live } = await admin.changeInstance(id, action, cli.caller());
          const closedSessions = live.reached ? live.closed : 0;
          cli.print(cmd, { instanceId: id, state: rec.state, closedSessions }, () => `${id}  ${rec.state}${liveLine(live, rec.state)}`);
        }),
      );
  }
}
