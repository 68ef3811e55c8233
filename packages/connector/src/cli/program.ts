import { hostname } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { parseShare, shareEntry, shareReaches, sharedWorkspaceIds, SluiceError } from '@sluice/shared-protocol';
import { answerVersionFlags, VERSION_OPTION_HELP } from '@sluice/node-kit';
import { loadConnectorConfig, saveConnectorConfig } from '../config/connector-config.js';
import type { ConnectorConfig } from '../config/connector-config.js';
import { connectorConfigPath, connectorStatePath, sluiceHome } from '../config/paths.js';
import { DaemonClient } from '../upstream/daemon-client.js';
import { enroll } from '../enroll/enroll.js';
import { rotateKey } from '../enroll/rotate-key.js';
import { ConnectorFailure, EXIT_CODES } from '../errors/exit-codes.js';
import { createLogger } from '../logging/logger.js';
import { runConnector } from '../session/run-loop.js';
import { CONNECTOR_VERSION } from '../session/relay-session.js';
import { collectStatus, renderStatus } from './status.js';

/** What the CLI talks to: injected so tests can run it in-process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** Aborted on SIGTERM/SIGINT by `main`; `run` says goodbye and exits 0. */
  signal: AbortSignal;
}

function intEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Run the CLI with `argv` (without node and script) and resolve with the exit code. Never calls process.exit. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const versionAnswer = answerVersionFlags('sluice-connector', argv);
  if (versionAnswer) {
    io.out(versionAnswer.text);
    return versionAnswer.exitCode;
  }
  let exitCode: number = EXIT_CODES.ok;
  const program = new Command('sluice-connector')
    .description("Sluice connector: the daemon's only remote door. One outbound websocket to a relay, an allowlisted proxy to the local daemon.")
    .version(CONNECTOR_VERSION, '-V, --version', VERSION_OPTION_HELP)
    .option('--config <path>', 'connector config file (default: $SLUICE_CONNECTOR_CONFIG or $SLUICE_HOME/connector.json)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  const configPath = (): string => {
    const explicit = program.opts<{ config?: string }>().config;
    return explicit ?? connectorConfigPath(io.env);
  };
  const daemonFor = (config: ConnectorConfig): DaemonClient => new DaemonClient({ home: config.daemon.home ?? sluiceHome(io.env), url: config.daemon.url });
  const print = (json: boolean | undefined, value: unknown, text: string): void => io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`);

  program
    .command('enroll')
    .description('Make an Ed25519 identity, register its public key with the relay (single-use token) and write the config (mode 600).')
    .requiredOption('--relay <url>', 'relay base URL (https://…; http:// only for loopback or with --insecure)')
    .addOption(new Option('--token <token>', 'single-use enrollment token slc_enr_… (or env SLUICE_ENROLLMENT_TOKEN)'))
    .option('--name <name>', 'name shown to planners', hostname())
    .option('--ca <file>', 'PEM file of the CA to trust for the relay instead of the system store')
    .option('--insecure', 'allow plain ws:// / http:// to a non-loopback relay (TLS checks are never disabled)', false)
    .option('--force', 'replace an existing identity (keeps shares and daemon settings)', false)
    .option('--json', 'machine-readable output', false)
    .action(async (o: { relay: string; token?: string; name: string; ca?: string; insecure: boolean; force: boolean; json: boolean }) => {
      const token = o.token ?? io.env['SLUICE_ENROLLMENT_TOKEN'];
      if (!token) throw new ConnectorFailure('ENROLLMENT_TOKEN_INVALID', 'an enrollment token is required: --token slc_enr_…', EXIT_CODES.usage);
      const path = configPath();
      const config = await enroll({ configPath: path, relay: o.relay, token, name: o.name, caPath: o.ca, insecure: o.insecure, force: o.force });
      print(
        o.json,
        { instanceId: config.instanceId, orgId: config.orgId, relay: config.relayUrl, config: path },
        `enrolled as ${config.instanceId} (org ${config.orgId}) with ${config.relayUrl}\nconfig: ${path} (mode 600, holds the private key)\nnext: sluice-connector share <workspace>, then sluice-connector run`,
      );
    });

  program
    .command('rotate-key')
    .description('Replace the instance key pair: the relay accepts the new public key because the old key signs the request; the old key stops working at once.')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { json: boolean }) => {
      const path = configPath();
      const rotated = await rotateKey(path);
      print(o.json, { ...rotated, config: path }, `rotated the key of ${rotated.instanceId}; the new private key is in ${path}\na running connector reconnects with it by itself`);
    });

  program
    .command('share')
    .description('Share a daemon workspace with the relay (it must exist on the daemon). The config is the allowlist.')
    .argument('<workspace>', 'workspace id as listed by `sluice-connector discover`')
    .option('--json', 'machine-readable output', false)
    .action(async (workspace: string, o: { json: boolean }) => {
      const path = configPath();
      const config = loadConnectorConfig(path);
      const ws = (await daemonFor(config).listWorkspaces()).find((w) => w.workspaceId === workspace);
      if (!ws) {
        throw new ConnectorFailure('WORKSPACE_NOT_FOUND', `the daemon has no workspace ${JSON.stringify(workspace)}; see \`sluice-connector discover\``, EXIT_CODES.failure);
      }
      // The share names this registration: if the workspace is removed and added again, it must be shared again.
      const shares = [...config.shares.filter((s) => parseShare(s)?.workspaceId !== workspace), shareEntry(workspace, ws.registration ?? null)];
      saveConnectorConfig(path, { ...config, shares });
      const ids = sharedWorkspaceIds(shares);
      print(o.json, { shares: ids }, `shared ${workspace}; shares: ${ids.join(', ')}\n(a running connector picks this up within its refresh interval)`);
    });

  program
    .command('unshare')
    .description('Stop sharing a workspace: it no longer exists for the relay.')
    .argument('<workspace>', 'workspace id')
    .option('--json', 'machine-readable output', false)
    .action((workspace: string, o: { json: boolean }) => {
      const path = configPath();
      const config = loadConnectorConfig(path);
      if (!sharedWorkspaceIds(config.shares).includes(workspace)) throw new ConnectorFailure('WORKSPACE_NOT_FOUND', `${JSON.stringify(workspace)} is not shared`, EXIT_CODES.failure);
      const shares = config.shares.filter((s) => parseShare(s)?.workspaceId !== workspace);
      saveConnectorConfig(path, { ...config, shares });
      const ids = sharedWorkspaceIds(shares);
      print(o.json, { shares: ids }, `unshared ${workspace}; shares: ${ids.length ? ids.join(', ') : '(none)'}`);
    });

  program
    .command('discover')
    .description('List the daemon workspaces and whether each is shared. Discovery never shares anything.')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { json: boolean }) => {
      const config = loadConnectorConfig(configPath());
      const all = await daemonFor(config).listWorkspaces();
      const rows = all.map(({ registration: _registration, ...w }) => ({ ...w, shared: config.shares.some((s) => shareReaches(s, { ...w, registration: _registration })) }));
      const missing = sharedWorkspaceIds(config.shares.filter((s) => !all.some((w) => shareReaches(s, w))));
      const text = [
        ...rows.map((r) => `${r.shared ? '[shared]    ' : '[not shared]'} ${r.workspaceId}  executors: ${r.executors.join(', ') || '-'}  validations: ${r.validations.join(', ') || '-'}`),
        ...missing.map((m) => `[missing]    ${m}  (shared in the config, but the daemon has no such workspace or it was registered again: share it again)`),
      ];
      print(o.json, { workspaces: rows, missing }, text.length ? text.join('\n') : 'the daemon has no workspaces; add one with `sluice workspace add PATH`');
    });

  program
    .command('list')
    .description('Show this instance and its share list (from the config only).')
    .option('--json', 'machine-readable output', false)
    .action((o: { json: boolean }) => {
      const config = loadConnectorConfig(configPath());
      print(
        o.json,
        { instanceId: config.instanceId, orgId: config.orgId, name: config.name, relay: config.relayUrl, shares: sharedWorkspaceIds(config.shares) },
        `instance ${config.instanceId} (${config.name}) at ${config.relayUrl}\nshared: ${config.shares.length ? sharedWorkspaceIds(config.shares).join(', ') : '(none)'}`,
      );
    });

  program
    .command('status')
    .description('Connected? relay, instance, shared workspaces, last error, and what is wrong if the daemon or relay is down.')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { json: boolean }) => {
      const path = configPath();
      const report = await collectStatus(path, connectorStatePath(path), io.env);
      print(o.json, report, renderStatus(report));
      exitCode = report.exitCode;
    });

  program
    .command('run')
    .description('Connect to the relay (one outbound websocket) and serve allowlisted requests until SIGTERM/SIGINT.')
    .action(async () => {
      const path = configPath();
      const log = createLogger(io.env['SLUICE_LOG_LEVEL'] ?? 'info');
      const baseMs = intEnv(io.env, 'SLUICE_CONNECTOR_BACKOFF_BASE_MS');
      const capMs = intEnv(io.env, 'SLUICE_CONNECTOR_BACKOFF_CAP_MS');
      const outcome = await runConnector({
        configPath: path,
        statePath: connectorStatePath(path),
        env: io.env,
        log,
        signal: io.signal,
        backoff: { baseMs: baseMs ?? 1000, capMs: capMs ?? 64_000 },
        healthyMs: intEnv(io.env, 'SLUICE_CONNECTOR_HEALTHY_MS'),
        refreshMs: intEnv(io.env, 'SLUICE_CONNECTOR_REFRESH_MS'),
      });
      if (outcome.exitCode !== EXIT_CODES.ok) io.err(`sluice-connector: ${outcome.code}: ${outcome.message}\n`);
      exitCode = outcome.exitCode;
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (err instanceof ConnectorFailure) {
      io.err(`sluice-connector: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof SluiceError) {
      io.err(`sluice-connector: ${err.code}: ${err.message}\n`);
      return err.code === 'DAEMON_UNAVAILABLE' ? EXIT_CODES.daemonUnavailable : EXIT_CODES.failure;
    }
    io.err(`sluice-connector: INTERNAL: ${(err as Error).message}\n`);
    return EXIT_CODES.failure;
  }
  return exitCode;
}
