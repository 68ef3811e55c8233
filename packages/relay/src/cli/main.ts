#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { onShutdownSignals } from '@sluice/node-kit';
import { Scope, SCOPES, SluiceError } from '@sluice/shared-protocol';
import type { RelayConfigInput } from '../config/relay-config.js';
import { SqliteRelayStore, StoreTooNewError } from '../store/sqlite-store.js';
import { RELAY_VERSION } from '../version.js';
import { checkListenSafety, parseDuration } from './listen-guard.js';

/** How long a stopping relay waits for the requests in flight (closing sessions already fails the calls waiting on them). */
const DRAIN_TIMEOUT_MS = 30_000;

interface GlobalOpts {
  db?: string;
  json?: boolean;
}

function dbPath(opts: GlobalOpts): string {
  if (opts.db) return opts.db;
  const home = process.env.SLUICE_RELAY_HOME ?? join(homedir(), '.sluice-relay');
  return join(home, 'relay.db');
}

function localActor(): string {
  let name = 'operator';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (containers): keep the generic name.
  }
  return `local:${name.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64) || 'operator'}`;
}

function withStore<T>(cmd: Command, fn: (store: SqliteRelayStore, opts: GlobalOpts) => T): T {
  const opts = cmd.optsWithGlobals<GlobalOpts>();
  const store = new SqliteRelayStore(dbPath(opts));
  try {
    return fn(store, opts);
  } finally {
    store.close();
  }
}

function print(opts: GlobalOpts, value: unknown, human: () => string): void {
  console.log(opts.json ? JSON.stringify(value, null, 2) : human());
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function scopesOf(text: string): Scope[] {
  return text.split(',').map((s) => {
    const parsed = Scope.safeParse(s.trim());
    if (!parsed.success) throw new SluiceError('INVALID_INPUT', `Unknown scope "${s.trim()}".`);
    return parsed.data;
  });
}

/** The `sluice-relay` command line. */
export function buildCli(): Command {
  const program = new Command('sluice-relay')
    .description('Sluice relay: orgs, planner tokens, connector enrollment, /api/v2 and /mcp.')
    .version(RELAY_VERSION)
    .option('--db <file>', 'relay database (default $SLUICE_RELAY_HOME/relay.db, home ~/.sluice-relay)')
    .option('--json', 'machine-readable output');

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
    .option('--oauth-issuer <url>', 'accept JWT access tokens from this issuer')
    .option('--oauth-jwks-url <url>', 'JWKS of the issuer')
    .option('--oauth-audience <aud>', 'expected audience (default <public-url>/mcp)')
    .option('--oauth-org-claim <claim>', 'claim naming the relay org', 'sluice_org')
    .option('--oauth-max-lifetime <duration>', 'longest accepted access-token lifetime, e.g. 1h (default 24h)')
    .option('--oauth-require-typ', 'only accept tokens whose header says typ: at+jwt')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
    .action(async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOpts>();
      const host = String(o.host);
      const tls = o.tlsCert && o.tlsKey ? { cert: readFileSync(String(o.tlsCert), 'utf8'), key: readFileSync(String(o.tlsKey), 'utf8') } : undefined;
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new SluiceError('BAD_REQUEST', '--tls-cert and --tls-key go together.');
      const unsafe = checkListenSafety({ host, tls: tls !== undefined, allowInsecureHttp: o.allowInsecureHttp === true });
      if (unsafe) throw new SluiceError('BAD_REQUEST', unsafe);
      const trust = o.trustProxy === undefined ? false : /^\d+$/.test(String(o.trustProxy)) ? Number(o.trustProxy) : String(o.trustProxy);
      const config: RelayConfigInput = {
        heartbeatMs: Number(o.heartbeatMs),
        trustProxy: trust,
        buildCommit: process.env.SLUICE_BUILD_COMMIT ?? 'unknown',
        ...(o.publicUrl ? { publicUrl: String(o.publicUrl) } : {}),
        ...(tls ? { tls } : {}),
        ...(o.oauthIssuer
          ? {
              oauth: {
                issuer: String(o.oauthIssuer),
                ...(o.oauthJwksUrl ? { jwksUrl: String(o.oauthJwksUrl) } : {}),
                ...(o.oauthAudience ? { audience: String(o.oauthAudience) } : {}),
                orgClaim: String(o.oauthOrgClaim),
                ...(o.oauthMaxLifetime ? { maxLifetimeSeconds: Math.floor(parseDuration(String(o.oauthMaxLifetime)) / 1000) } : {}),
                ...(o.oauthRequireTyp === true ? { requireTyp: true } : {}),
              },
            }
          : {}),
      };
      // Loaded here so the admin commands start fast.
      const { buildRelay, createRelayLogger } = await import('../api/build-relay.js');
      const log = createRelayLogger(String(o.logLevel));
      const store = new SqliteRelayStore(dbPath(opts));
      const relay = await buildRelay({ store, logger: log }, config);
      const address = await relay.app.listen({ host, port: Number(o.port) });
      log.info({ address, origin: relay.origin() }, 'sluice relay listening');
      onShutdownSignals({
        running: () => 'closing connector sessions, finishing the requests in flight',
        drain: async () => {
          try {
            await relay.close();
          } finally {
            store.close();
          }
        },
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
        cancel: async () => {
          relay.app.server.closeAllConnections();
          store.close();
        },
        log: (line) => log.info(line),
      });
    });

  const org = program.command('org').description('manage orgs');
  org
    .command('create <name>')
    .description('create an org')
    .action((name: string, _o: unknown, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const rec = store.createOrg(name);
        store.appendAudit({ orgId: rec.id, actor: localActor(), action: 'org.create', target: rec.id, outcome: 'ok', detail: { name } });
        print(opts, { orgId: rec.id, name: rec.name }, () => `${rec.id}  ${rec.name}`);
      }),
    );
  org
    .command('list')
    .description('list orgs')
    .action((_o: unknown, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const orgs = store.listOrgs().map((r) => ({ orgId: r.id, name: r.name, createdAt: iso(r.createdAt) }));
        print(opts, { orgs }, () => orgs.map((r) => `${r.orgId}  ${r.name}`).join('\n') || '(no orgs)');
      }),
    );

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
      withStore(cmd, (store, opts) => {
        const { record, secret } = store.createToken({
          orgId: o.org,
          name: o.name,
          scopes: scopesOf(o.scopes),
          instanceAllowlist: o.instances ? o.instances.split(',').map((s) => s.trim()) : null,
          expiresAt: o.expiresIn ? Date.now() + parseDuration(o.expiresIn) : null,
        });
        store.appendAudit({ orgId: record.orgId, actor: localActor(), action: 'token.create', target: record.id, outcome: 'ok', detail: { name: record.name, scopes: record.scopes } });
        print(opts, { tokenId: record.id, orgId: record.orgId, token: secret, scopes: record.scopes, expiresAt: iso(record.expiresAt) }, () =>
          [`token id: ${record.id}`, `token:    ${secret}`, 'Store it now: it is shown only once.'].join('\n'),
        );
      }),
    );
  token
    .command('list')
    .description('list planner tokens (never their secrets)')
    .option('--org <orgId>', 'only this org')
    .action((o: { org?: string }, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const tokens = store.listTokens(o.org).map((r) => ({
          tokenId: r.id,
          orgId: r.orgId,
          name: r.name,
          scopes: r.scopes,
          instances: r.instanceAllowlist,
          expiresAt: iso(r.expiresAt),
          revokedAt: iso(r.revokedAt),
          lastUsedAt: iso(r.lastUsedAt),
        }));
        print(opts, { tokens }, () => tokens.map((r) => `${r.tokenId}  ${r.name}  ${r.scopes.join(',')}${r.revokedAt ? '  (revoked)' : ''}`).join('\n') || '(no tokens)');
      }),
    );
  token
    .command('revoke <tokenId>')
    .description('revoke a planner token')
    .action((id: string, _o: unknown, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const rec = store.listTokens().find((r) => r.id === id);
        if (!rec) throw new SluiceError('NOT_FOUND', 'No such token.');
        const changed = store.revokeToken(id);
        store.appendAudit({ orgId: rec.orgId, actor: localActor(), action: 'token.revoke', target: id, outcome: changed ? 'ok' : 'already_revoked' });
        print(opts, { tokenId: id, revoked: true }, () => `revoked ${id}`);
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
      withStore(cmd, (store, opts) => {
        const minutes = Number(o.ttlMinutes);
        if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new SluiceError('INVALID_INPUT', '--ttl-minutes must be 1-1440.');
        const enr = store.createEnrollmentToken(o.org, minutes * 60_000);
        store.appendAudit({ orgId: o.org, actor: localActor(), action: 'enrollment_token.create', target: enr.id, outcome: 'ok', detail: { ttlMinutes: minutes } });
        print(opts, { token: enr.secret, expiresAt: iso(enr.expiresAt) }, () => `${enr.secret}\nsingle use, expires ${iso(enr.expiresAt)}`);
      }),
    );

  const instance = program.command('instance').description('manage connector instances');
  instance
    .command('list')
    .description('list instances')
    .option('--org <orgId>', 'only this org')
    .action((o: { org?: string }, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const instances = store.listInstances(o.org).map((r) => ({ instanceId: r.id, orgId: r.orgId, name: r.name, state: r.state, lastSeenAt: iso(r.lastSeenAt) }));
        print(opts, { instances }, () => instances.map((r) => `${r.instanceId}  ${r.name}  ${r.state}`).join('\n') || '(no instances)');
      }),
    );
  for (const [action, state, help] of [
    ['disable', 'disabled', 'refuse the instance until enabled again (its key is kept)'],
    ['enable', 'active', 'accept a disabled instance again'],
    ['revoke', 'revoked', 'delete the instance key; it must enroll again'],
  ] as const) {
    instance
      .command(`${action} <instanceId>`)
      .description(help)
      .action((id: string, _o: unknown, cmd: Command) =>
        withStore(cmd, (store, opts) => {
          const before = store.getInstance(id);
          if (!before) throw new SluiceError('INSTANCE_NOT_FOUND');
          if (before.state === 'revoked' && state !== 'revoked') throw new SluiceError('INSTANCE_REVOKED');
          const rec = store.setInstanceState(id, state)!;
          store.appendAudit({ orgId: rec.orgId, actor: localActor(), action: `instance.${action}`, target: id, outcome: 'ok' });
          print(opts, { instanceId: id, state: rec.state }, () => `${id}  ${rec.state} (a running relay closes its session within one heartbeat)`);
        }),
      );
  }

  const oauth = program.command('oauth').description('OAuth subjects (JWT access tokens of the configured issuer)');
  oauth
    .command('revoke-subject <subject>')
    .description('refuse every access token of this subject at once, whatever its expiry')
    .requiredOption('--issuer <url>', 'the issuer exactly as configured (--oauth-issuer)')
    .action((subject: string, o: { issuer: string }, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const by = localActor();
        const changed = store.revokeOAuthSubject(o.issuer, subject, by);
        store.appendAudit({ orgId: null, actor: by, action: 'oauth.revoke_subject', target: subject.slice(0, 200), outcome: changed ? 'ok' : 'already_revoked', detail: { issuer: o.issuer } });
        print(opts, { issuer: o.issuer, subject, revoked: true }, () => `revoked ${subject} of ${o.issuer} (a running relay refuses its tokens on their next use)`);
      }),
    );
  oauth
    .command('restore-subject <subject>')
    .description('accept a revoked subject again')
    .requiredOption('--issuer <url>', 'the issuer exactly as configured (--oauth-issuer)')
    .action((subject: string, o: { issuer: string }, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const changed = store.restoreOAuthSubject(o.issuer, subject);
        if (!changed) throw new SluiceError('NOT_FOUND', 'That subject is not revoked.');
        store.appendAudit({ orgId: null, actor: localActor(), action: 'oauth.restore_subject', target: subject.slice(0, 200), outcome: 'ok', detail: { issuer: o.issuer } });
        print(opts, { issuer: o.issuer, subject, revoked: false }, () => `restored ${subject} of ${o.issuer}`);
      }),
    );
  oauth
    .command('list-revoked')
    .description('list revoked OAuth subjects')
    .action((_o: unknown, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const subjects = store.listRevokedOAuthSubjects().map((r) => ({ ...r, revokedAt: iso(r.revokedAt) }));
        print(opts, { subjects }, () => subjects.map((r) => `${r.issuer}  ${r.subject}  ${r.revokedAt}  ${r.revokedBy}`).join('\n') || '(none)');
      }),
    );

  program
    .command('audit')
    .description('audit log')
    .command('verify')
    .description('check the hash chain of the audit log; exit 2 when it was tampered with')
    .action((_o: unknown, cmd: Command) =>
      withStore(cmd, (store, opts) => {
        const v = store.verifyAudit();
        print(opts, v, () => (v.ok ? `audit ok: ${v.rows} rows, chain intact` : [`audit BROKEN: ${v.problems.length} problem(s) in ${v.rows} rows`, ...v.problems.map((p) => `  seq ${p.seq}: ${p.problem}`)].join('\n')));
        if (!v.ok) process.exitCode = 2;
      }),
    );

  return program;
}

async function main(): Promise<void> {
  try {
    await buildCli().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof SluiceError) console.error(`error ${err.code}: ${err.message}`);
    else if (err instanceof StoreTooNewError) console.error(`error STORE_TOO_NEW: ${err.message}`);
    else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

await main();
