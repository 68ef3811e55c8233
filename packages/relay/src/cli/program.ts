import { Command, CommanderError } from 'commander';
import { SluiceError } from '@sluice/shared-protocol';
import { answerVersionFlags, VERSION_OPTION_HELP } from '@sluice/node-kit';
import { StoreTooNewError } from '../store/sqlite-store.js';
import { RELAY_VERSION } from '../version.js';
import { registerAuditCommand } from './audit-command.js';
import { registerAdminCommands } from './oauth-server-commands.js';
import { CliContext } from './cli-context.js';
import type { CliIo } from './cli-context.js';
import { registerInstanceCommands } from './instance-commands.js';
import { registerOAuthCommands } from './oauth-commands.js';
import { registerOrgCommands } from './org-commands.js';
import { registerStartCommand } from './start-command.js';
import { registerTokenCommands } from './token-commands.js';

export type { CliIo } from './cli-context.js';

function errorLine(err: unknown): string {
  if (err instanceof SluiceError) return `error ${err.code}: ${err.message}`;
  if (err instanceof StoreTooNewError) return `error STORE_TOO_NEW: ${err.message}`;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Run `sluice-relay` with `argv` (without node and script) and resolve with the exit code. Never calls process.exit;
 * `start` resolves once the relay listens, and the relay runs until a signal stops it.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const versionAnswer = answerVersionFlags('sluice-relay', argv);
  if (versionAnswer) {
    io.out(versionAnswer.text);
    return versionAnswer.exitCode;
  }
  const cli = new CliContext(io);
  const program = new Command('sluice-relay')
    .description('Sluice relay: orgs, planner tokens, connector enrollment, /api/v2 and /mcp.')
    .version(RELAY_VERSION, '-V, --version', VERSION_OPTION_HELP)
    .option('--db <file|url>', 'relay database: a SQLite file (default $SLUICE_RELAY_DB, else $SLUICE_RELAY_HOME/relay.db, home ~/.sluice-relay) or postgres://user@host/db (password from ~/.pgpass, PGPASSFILE or PGPASSWORD, never in the URL)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerStartCommand(program, cli);
  registerOrgCommands(program, cli);
  registerTokenCommands(program, cli);
  registerInstanceCommands(program, cli);
  registerOAuthCommands(program, cli);
  registerAuditCommand(program, cli);
  registerAdminCommands(program, cli);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`${errorLine(err)}\n`);
    return 1;
  }
  return cli.exitCode;
}
