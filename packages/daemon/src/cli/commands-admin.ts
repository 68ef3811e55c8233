import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { onShutdownSignals, operatorActor } from '@sluice/node-kit';
import { SluiceError } from '@sluice/shared-protocol';
import { loadConfig, writeRawConfig } from '../config/load.js';
import { ADDABLE_ADAPTERS, type AddableAdapter } from '../config/workspaces.js';
import { ensureHome, ensureToken } from '../home/home.js';
import { resolveRuntimeBase } from '../home/runtime-dir.js';
import { sandboxWarnings } from '../sandbox/index.js';
import type { CallContext } from '../service/call-context.js';
import { ConfigHolder } from '../config/config-holder.js';
import { summarize, WorkspaceService } from '../service/workspace-service.js';
import { callDaemon, cliHome, daemonFailure, withStore } from './context.js';
import { DAEMON_EXIT_CODES } from './exit-codes.js';
import { printJson, printTable } from './output.js';
import { registerServiceCommands } from './commands-service.js';

/** Workspace changes while no daemon runs: the same service, so they leave the same audit rows in the ledger. */
function offline<T>(fn: (workspaces: WorkspaceService, ctx: CallContext) => T): Promise<T> {
  return withStore((store, home) => fn(new WorkspaceService({ store, config: new ConfigHolder(loadConfig(home.config)), configPath: home.config }), { actor: operatorActor(), sharedWorkspaces: null }));
}

/** init, daemon start, status, workspace add/list/show/remove. */
export function registerAdminCommands(program: Command): void {
  registerInitCommand(program);
  registerDaemonCommands(program);
  registerStatusCommand(program);
  registerWorkspaceCommands(program);
}

function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('Create SLUICE_HOME (mode 700) with config.json and daemon.token (mode 600)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const home = ensureHome(cliHome().root);
      if (!existsSync(home.config)) writeRawConfig(home.config, { listen: { host: '127.0.0.1', port: 7433 }, workspaces: {} });
      loadConfig(home.config);
      ensureToken(home);
      if (o.json) printJson({ home: home.root, config: home.config, token: home.token });
      else process.stdout.write(`sluice home ready at ${home.root}\n  config ${home.config}\n  token  ${home.token} (mode 600)\n`);
    });
}

function registerDaemonCommands(program: Command): void {
  const daemon = program.command('daemon').description('The local daemon');
  daemon
    .command('start')
    .description('Run the daemon in the foreground (pino logs on stdout). SIGTERM or Ctrl-C: finish running attempts, then stop; again: cancel them; a third time: exit now')
    .option('--host <host>', 'listen address (only 127.0.0.1 is allowed)')
    .option('--port <port>', 'listen port (0 picks a free one; see daemon.json)')
    .option('--log-level <level>', 'pino level', 'info')
    .option('--worktree-pool <n>', 'keep up to n worktrees per repository for reuse (faster attempt setup)', '0')
    .action(async (o: { host?: string; port?: string; logLevel: string; worktreePool: string }) => {
      // Loaded on demand so the other commands start without the HTTP stack.
      const [{ startDaemon }, { createLogger }] = await Promise.all([import('../daemon.js'), import('../logger.js')]);
      const logger = createLogger({ level: o.logLevel });
      const port = o.port === undefined ? undefined : Number(o.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) misconfigured(new SluiceError('BAD_REQUEST', '--port must be 0-65535.'));
      const worktreePool = Number(o.worktreePool);
      if (!Number.isInteger(worktreePool) || worktreePool < 0 || worktreePool > 16) misconfigured(new SluiceError('BAD_REQUEST', '--worktree-pool must be 0-16.'));
      const running = await startDaemon({ home: cliHome().root, runtimeDir: resolveRuntimeBase(process.env), ...(o.host !== undefined ? { host: o.host } : {}), ...(port !== undefined ? { port } : {}), logger, engineOptions: { worktreePool } }).catch(misconfigured);
      logger.info({ url: running.url, pid: process.pid, home: running.home.root }, 'sluice daemon listening');
      onShutdownSignals({
        running: () => {
          const n = running.runningAttempts();
          return n === 0 ? null : `${n} attempt${n === 1 ? '' : 's'} running`;
        },
        drain: async () => {
          await running.drain();
          await running.close();
        },
        drainTimeoutMs: running.drainTimeoutMs,
        cancel: async () => {
          await running.cancelRunning('cancelled while the daemon was stopping');
          await running.close();
        },
        log: (line) => logger.info(line),
      });
    });
  registerServiceCommands(daemon);
}

/** A start refused for its config or flags exits `misconfigured`, so a service manager does not restart it in a loop. */
function misconfigured(err: unknown): never {
  if (err instanceof SluiceError && err.code === 'BAD_REQUEST') throw Object.assign(err, { exitCode: DAEMON_EXIT_CODES.misconfigured });
  throw err;
}

function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Ask the running daemon how it is')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const r = await callDaemon(cliHome(), 'GET', '/api/v1/status');
      if (!r) {
        if (o.json) printJson({ running: false });
        else process.stdout.write('daemon not running\n');
        process.exitCode = 3;
        return;
      }
      if (r.status !== 200) daemonFailure(r);
      const s = r.body as { version: string; pid: number; startedAt: string; workspaces: string[]; runs: Record<string, number>; events: number; auditRows: number };
      const sandbox = sandboxWarnings(loadConfig(cliHome().config));
      if (o.json) return printJson({ running: true, ...s, sandboxWarnings: sandbox });
      process.stdout.write(
        `daemon ${s.version} running (pid ${s.pid}, since ${s.startedAt})\n  workspaces: ${s.workspaces.join(', ') || '(none)'}\n  runs: ${JSON.stringify(s.runs)}\n  events: ${s.events}  audit rows: ${s.auditRows}\n`,
      );
      for (const w of sandbox) process.stdout.write(`  warning: ${w}\n`);
    });
}

function registerWorkspaceCommands(program: Command): void {
  const ws = program.command('workspace').description('Registered workspaces (git repositories)');
  ws.command('add <path>')
    .description('Register a git repository (its root, no symlinks); no executors unless named with --executor, no validations')
    .option('--id <id>', 'workspace id (default: the folder name)')
    .option('--executor <name=adapter>', `add an executor (repeatable), e.g. sim=simulation or claude=claude-code; adapters: ${ADDABLE_ADAPTERS.join(', ')}`, collectExecutor, {})
    .option('--json', 'print JSON')
    .action(async (path: string, o: { id?: string; executor: Record<string, AddableAdapter>; json?: boolean }) => {
      const home = ensureHome(cliHome().root);
      const executors = Object.keys(o.executor).length > 0 ? { executors: o.executor } : {};
      const viaDaemon = await callDaemon(home, 'POST', '/api/v1/workspaces', { path: path.startsWith('/') ? path : `${process.cwd()}/${path}`, ...(o.id ? { id: o.id } : {}), ...executors });
      let result: { workspaceId: string; path: string };
      if (viaDaemon) {
        if (viaDaemon.status !== 201) daemonFailure(viaDaemon);
        result = viaDaemon.body as typeof result;
      } else {
        result = await offline((w, ctx) => w.add({ path, id: o.id, ...executors }, ctx, process.cwd()));
      }
      if (o.json) printJson(result);
      else process.stdout.write(`added workspace ${result.workspaceId} at ${result.path}\n`);
    });
  ws.command('list')
    .description('List workspaces')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const config = loadConfig(cliHome().config);
      const rows = Object.entries(config.workspaces).map(([id, w]) => ({ ...summarize(id, w), path: w.path }));
      if (o.json) return printJson({ workspaces: rows });
      if (rows.length === 0) return void process.stdout.write('no workspaces; add one with `sluice workspace add PATH`\n');
      printTable([['ID', 'PATH', 'EXECUTORS', 'VALIDATIONS', 'APPROVAL'], ...rows.map((r) => [r.workspaceId, r.path, r.executors.join(','), r.validations.join(','), `${r.approvalPolicy}${r.remoteApprovals ? '+remote' : ''}`])]);
    });
  ws.command('show <id>')
    .description('Show one workspace config')
    .option('--json', 'print JSON')
    .action((id: string, o: { json?: boolean }) => {
      const config = loadConfig(cliHome().config);
      const w = Object.prototype.hasOwnProperty.call(config.workspaces, id) ? config.workspaces[id] : undefined;
      if (!w) throw new SluiceError('WORKSPACE_NOT_FOUND');
      if (o.json) return printJson({ workspaceId: id, ...w });
      process.stdout.write(`${JSON.stringify({ workspaceId: id, ...w }, null, 2)}\n`);
    });
  ws.command('remove <id>')
    .description('Unregister a workspace (its runs stay in the ledger, its branches in the repository)')
    .action(async (id: string) => {
      const home = cliHome();
      const viaDaemon = await callDaemon(home, 'DELETE', `/api/v1/workspaces/${encodeURIComponent(id)}`);
      if (viaDaemon) {
        if (viaDaemon.status !== 200) daemonFailure(viaDaemon);
      } else {
        await offline((w, ctx) => w.remove(id, ctx));
      }
      process.stdout.write(`removed workspace ${id}\n`);
    });
}

/** `--executor name=adapter`, collected into a name → adapter map. */
function collectExecutor(value: string, previous: Record<string, AddableAdapter>): Record<string, AddableAdapter> {
  const m = /^([^=]+)=(.+)$/.exec(value);
  const adapter = m?.[2] as AddableAdapter | undefined;
  if (!m || !adapter || !ADDABLE_ADAPTERS.includes(adapter)) {
    throw new InvalidArgumentError(`expected name=adapter with adapter one of ${ADDABLE_ADAPTERS.join(', ')} (a "command" executor needs an argv: add it to config.json)`);
  }
  return { ...previous, [m[1]!]: adapter };
}
