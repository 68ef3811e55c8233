import type { Command } from 'commander';
import { ExecutorCheckReport, SluiceError, type ExecutorCheck } from '@sluice/shared-protocol';
import { loadConfig } from '../config/load.js';
import { RUNNABLE_STATUSES, checkExecutors } from '../executors/check.js';
import { cliHome } from './context.js';
import { printJson, printTable } from './output.js';

/** Statuses an attempt can run with; anything else makes the command exit 1. */

function flagsCell(c: ExecutorCheck): string {
  if (c.capabilities.missing.length > 0) return `missing ${c.capabilities.missing.join(' ')}`;
  return c.capabilities.found.length > 0 ? `all ${c.capabilities.found.length}` : '-';
}

function authCell(c: ExecutorCheck): string {
  if (c.auth.ready === null) return '-';
  const sources = [...c.auth.env.filter((e) => e.passed && e.present).map((e) => e.name), ...c.auth.files.filter((f) => f.used && f.present).map((f) => f.path)];
  if (sources.length > 0) return sources.join(',');
  const unpassed = c.auth.env.filter((e) => e.present && !e.passed).map((e) => e.name);
  return unpassed.length > 0 ? `not passed: ${unpassed.join(',')}` : 'none';
}

function printChecks(checks: readonly ExecutorCheck[]): void {
  if (checks.length === 0) return void process.stdout.write('no executors configured\n');
  printTable([
    ['WORKSPACE', 'EXECUTOR', 'ADAPTER', 'STATUS', 'VERSION', 'TESTED', 'FLAGS', 'AUTH', 'BINARY'],
    ...checks.map((c) => [c.workspaceId, c.executor, c.adapter, c.status, c.version ?? '-', c.testedRange ?? '-', flagsCell(c), authCell(c), c.binaryPath ?? c.binary ?? '-']),
  ]);
  for (const c of checks) {
    if (c.message) process.stdout.write(`${c.workspaceId}/${c.executor}: ${c.failureCode}: ${c.message}\n`);
    for (const w of c.warnings) process.stdout.write(`${c.workspaceId}/${c.executor}: warning: ${w}\n`);
  }
}

/** `sluice executors check`. */
export function registerExecutorsCommands(program: Command): void {
  const executors = program.command('executors').description('The executors of the registered workspaces');
  executors
    .command('check')
    .description(
      "Check every workspace executor as an attempt's preflight would, in this shell's environment (run it where you start the daemon): " +
        'the program on PATH, its version against the tested range, the flags the adapter needs in its --help, and where its credentials ' +
        'would come from (env names and login files, never values). Exit 1 when an executor cannot run.',
    )
    .option('--workspace <id>', 'only this workspace')
    .option('--json', 'print JSON ({executors: [...]}, see ExecutorCheck in shared-protocol)')
    .action(async (o: { workspace?: string; json?: boolean }) => {
      const config = loadConfig(cliHome().config);
      if (o.workspace !== undefined && !Object.prototype.hasOwnProperty.call(config.workspaces, o.workspace)) throw new SluiceError('WORKSPACE_NOT_FOUND');
      const checks = await checkExecutors(config, { source: process.env, ...(o.workspace !== undefined ? { workspaceId: o.workspace } : {}) });
      if (o.json) printJson(ExecutorCheckReport.parse({ executors: checks }));
      else printChecks(checks);
      if (checks.some((c) => !RUNNABLE_STATUSES.has(c.status))) process.exitCode = 1;
    });
}
