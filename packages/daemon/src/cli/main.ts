#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { answerVersionFlags, VERSION_OPTION_HELP } from '@sluice/node-kit';
import { DAEMON_VERSION } from '../version.js';
import { registerAdminCommands } from './commands-admin.js';
import { registerConsoleCommands } from './commands-console.js';
import { registerExecCommands } from './commands-exec.js';
import { registerExecutorsCommands } from './commands-executors.js';
import { registerGcCommand } from './commands-gc.js';
import { registerLedgerCommands } from './commands-ledger.js';

const program = new Command();
program
  .name('sluice')
  .description('Sluice daemon: the local system of record for runs driven by remote planners')
  .version(DAEMON_VERSION, '-V, --version', VERSION_OPTION_HELP)
  .showHelpAfterError()
  .exitOverride();
registerAdminCommands(program);
registerLedgerCommands(program);
registerExecCommands(program);
registerExecutorsCommands(program);
registerGcCommand(program);
registerConsoleCommands(program);

const versionAnswer = answerVersionFlags('sluice', process.argv.slice(2));
if (versionAnswer) {
  process.stdout.write(versionAnswer.text);
  process.exit(versionAnswer.exitCode);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode);
  }
  const e = err as Error & { code?: string };
  const code = typeof e.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code) ? e.code : 'ERROR';
  process.stderr.write(`sluice: ${code}: ${e.message}\n`);
  process.exit(1);
}
