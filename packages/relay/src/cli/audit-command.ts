import type { Command } from 'commander';
import type { CliContext } from './cli-context.js';

/** Exit code of `audit verify` when the chain was tampered with. */
const AUDIT_BROKEN_EXIT = 2;

export function registerAuditCommand(program: Command, cli: CliContext): void {
  program
    .command('audit')
    .description('audit log')
    .command('verify')
    .description('check the hash chain of the audit log; exit 2 when it was tampered with')
    .action((_o: unknown, cmd: Command) =>
      cli.withStore(cmd, async (store) => {
        const v = await store.verifyAudit();
        cli.print(cmd, v, () => (v.ok ? `audit ok: ${v.rows} rows, chain intact` : [`audit BROKEN: ${v.problems.length} problem(s) in ${v.rows} rows`, ...v.problems.map((p) => `  seq ${p.seq}: ${p.problem}`)].join('\n')));
        if (!v.ok) cli.exitCode = AUDIT_BROKEN_EXIT;
      }),
    );
}
