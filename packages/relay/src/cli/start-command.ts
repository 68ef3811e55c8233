import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Command } from 'commander';
import { onShutdownSignals } from '@sluice/node-kit';
import { SluiceError } from '@sluice/shared-protocol';
import { listenRelaySocket, relaySocketPath } from '../admin/relay-socket.js';
import type { RelayConfigInput } from '../config/relay-config.js';
import { openRelayStore } from '../store/open-store.js';
import { isPostgresUrl } from '../store/postgres-store.js';
import type { CliContext } from './cli-context.js';
import { checkListenSafety, parseDuration } from './listen-guard.js';

/** How long a stopping relay waits for the requests in flight (closing sessions already fails the calls waiting on them). */
const DRAIN_TIMEOUT_MS = 30_000;

type StartFlags = Record<string, string | boolean | undefined>;

function tlsOf(o: StartFlags): { cert: string; key: string } | undefined {
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new SluiceError('BAD_REQUEST', '--tls-cert and --tls-key go together.');
  return o.tlsCert && o.tlsKey ? { cert: readFileSync(String(o.tlsCert), 'utf8'), key: readFileSync(String(o.tlsKey), 'utf8') } : undefined;
}

function oauthOf(o: StartFlags): Pick<RelayConfigInput, 'oauth' | 'oauthServer'> {
  if (o.oauthBuiltin === true) {
    if (o.oauthIssuer) throw new SluiceError('BAD_REQUEST', '--oauth-builtin and --oauth-issuer exclude each other.');
    return { oauthServer: {} };
  }
  if (!o.oauthIssuer) return {};
  return {
    oauth: {
      issuer: String(o.oauthIssuer),
      ...(o.oauthJwksUrl ? { jwksUrl: String(o.oauthJwksUrl) } : {}),
      ...(o.oauthAudience ? { audience: String(o.oauthAudience) } : {}),
      orgClaim: String(o.oauthOrgClaim),
      ...(o.oauthMaxLifetime ? { maxLifetimeSeconds: Math.floor(parseDuration(String(o.oauthMaxLifetime)) / 1000) } : {}),
      ...(o.oauthRequireTyp === true ? { requireTyp: true } : {}),
    },
  };
}

/** The flags of `start` as a relay config, refusing plain HTTP on a reachable address. */
function configOf(o: StartFlags): RelayConfigInput {
  const tls = tlsOf(o);
  const unsafe = checkListenSafety({ host: String(o.host), tls: tls !== undefined, allowInsecureHttp: o.allowInsecureHttp === true });
  if (unsafe) throw new SluiceError('BAD_REQUEST', unsafe);
  const trust = o.trustProxy === undefined ? false : /^\d+$/.test(String(o.trustProxy)) ? Number(o.trustProxy) : String(o.trustProxy);
  return {
    heartbeatMs: Number(o.heartbeatMs),
    trustProxy: trust,
    ...(o.publicUrl ? { publicUrl: String(o.publicUrl) } : {}),
    ...(tls ? { tls } : {}),
    ...oauthOf(o),
  };
}

async function start(o: StartFlags, cmd: Command, cli: CliContext): Promise<void> {
  const config = configOf(o);
  // Loaded here so the admin commands start fast.
  const { buildRelay, createRelayLogger } = await import('../api/build-relay.js');
  const log = createRelayLogger(String(o.logLevel));
  const db = cli.dbPath(cmd);
  const store = await openRelayStore(db);
  const relay = await buildRelay({ store, logger: log }, config);
  const address = await relay.app.listen({ host: String(o.host), port: Number(o.port) });
  // Replicas on PostgreSQL hear the CLI through NOTIFY; a SQLite relay through a socket next to its file.
  const socket = isPostgresUrl(db) ? undefined : await listenRelaySocket(relaySocketPath(db), relay.live, log);
  log.info({ address, origin: relay.origin() }, 'sluice relay listening');
  onShutdownSignals({
    running: () => 'closing connector sessions, finishing the requests in flight',
    drain: async () => {
      try {
        await socket?.close();
        await relay.close();
      } finally {
        await store.close();
      }
    },
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    cancel: async () => {
      relay.app.server.closeAllConnections();
      await store.close();
    },
    log: (line) => log.info(line),
    ...(cli.io.signals ? { signals: cli.io.signals } : {}),
    ...(cli.io.exit ? { exit: cli.io.exit } : {}),
  });
}

export function registerStartCommand(program: Command, cli: CliContext): void {
  program
    .command('start')
    .description('run the relay')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8787')
    .option('--public-url <url>', 'public origin planners and connectors use (default http://127.0.0.1:<port>)')
    .option('--tls-cert <file>', 'serve HTTPS/WSS with this certificate (PEM)')
    .option('--tls-key <file>', 'private key for --tls-cert (PEM)')
    .option('--trust-proxy <cidr|hops>', 'trust X-Forwarded-For from these proxies (CIDR list) or this many hops')
    .option('--allow-insecure-http', 'allow plain HTTP on a non-loopback address')
    .option('--heartbeat-ms <ms>', 'connector ping interval', '15000')
    .option('--oauth-builtin', 'be the OAuth authorization server for MCP clients (ChatGPT, claude.ai); see docs/OAUTH.md')
    .option('--oauth-issuer <url>', 'accept JWT access tokens from this issuer')
    .option('--oauth-jwks-url <url>', 'JWKS of the issuer')
    .option('--oauth-audience <aud>', 'expected audience (default <public-url>/mcp)')
    .option('--oauth-org-claim <claim>', 'claim naming the relay org', 'sluice_org')
    .option('--oauth-max-lifetime <duration>', 'longest accepted access-token lifetime, e.g. 1h (default 24h)')
    .option('--oauth-require-typ', 'only accept tokens whose header says typ: at+jwt')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
    .action((o: StartFlags, cmd: Command) => start(o, cmd, cli));
}
