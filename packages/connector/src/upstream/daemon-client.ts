import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { DAEMON_PATHS, DaemonWorkspaceList, ErrorBody, HEADERS, SluiceError, daemonVerbPath, isErrorCode } from '@sluice/shared-protocol';
import { httpJson } from '../net/http-json.js';
import { isLoopbackHost } from '../net/relay-url.js';

export interface DaemonLocation {
  /** `SLUICE_HOME` of the daemon (holds `daemon.json` and `daemon.token`). */
  home: string;
  /** Explicit daemon URL; otherwise read from `daemon.json` on every call, so a restarted daemon is found again. */
  url?: string | undefined;
}

export type DaemonCallResult = { ok: true; output: unknown } | { ok: false; error: ErrorBody };

/**
 * The connector's only way into the daemon: `/api/v1` on loopback with the daemon token. The URL must be loopback,
 * so the daemon token can never be sent anywhere else.
 */
export class DaemonClient {
  /**
   * Connections to the daemon, bounded so a burst of relay requests queues here instead of opening hundreds of
   * sockets, roomy enough for long-polls (`events.list`, `steps.wait`) not to starve quick calls. Kept alive because a
   * new TCP connection per call doubled the daemon's CPU per request; an idle socket is dropped after 4 s, long
   * before the daemon's own keep-alive timeout (72 s), so the connector never writes to a socket the daemon is
   * closing.
   */
  private readonly agent = new Agent({ keepAlive: true, timeout: 4000, maxSockets: 128, maxFreeSockets: 16 });
  /** Where the daemon was last found; read again when it stops answering there. */
  private located: { url: URL; token: string } | undefined;

  constructor(private readonly location: DaemonLocation) {}

  /** Close pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  /** The cached location, or a fresh one. */
  private where(): { url: URL; token: string } {
    this.located ??= this.locate();
    return this.located;
  }

  /** Find the daemon URL and token, or throw `DAEMON_UNAVAILABLE` saying what is missing. */
  locate(): { url: URL; token: string } {
    const raw = this.location.url ?? readDaemonJsonUrl(this.location.home);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon URL ${JSON.stringify(raw)} is not a URL`);
    }
    if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) {
      throw new SluiceError('DAEMON_UNAVAILABLE', `refusing daemon URL ${url.origin}: the daemon is only reached over loopback http`);
    }
    let token: string;
    const tokenPath = join(this.location.home, 'daemon.token');
    try {
      token = readFileSync(tokenPath, 'utf8').trim();
    } catch {
      throw new SluiceError('DAEMON_UNAVAILABLE', `cannot read the daemon token at ${tokenPath}; is the daemon initialised (sluice init)?`);
    }
    if (token.length === 0) throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon token at ${tokenPath} is empty`);
    return { url, token };
  }

  /** `POST /api/v1/verbs/<verb>` on behalf of a remote actor, limited to the shared workspaces. */
  async callVerb(
    verb: string,
    input: unknown,
    opts: { actor: string; shares: readonly string[]; timeoutMs: number; maxBytes: number },
  ): Promise<DaemonCallResult> {
    const send = (loc: { url: URL; token: string }) =>
      httpJson(new URL(daemonVerbPath(verb), loc.url), {
        method: 'POST',
        body: input,
        headers: {
          authorization: `Bearer ${loc.token}`,
          [HEADERS.actor]: opts.actor,
          [HEADERS.sharedWorkspaces]: opts.shares.join(','),
        },
        timeoutMs: opts.timeoutMs,
        maxBytes: opts.maxBytes,
        agent: this.agent,
      });
    let loc: { url: URL; token: string };
    try {
      loc = this.where();
    } catch (err) {
      return { ok: false, error: (err as SluiceError).toBody() };
    }
    let res = await send(loc);
    if (res.kind === 'unreachable' || (res.kind === 'response' && res.status === 401)) {
      // The daemon may have restarted on another port or with a new token: look again. Only a refused connection
      // (the request never reached any daemon) is sent again, so nothing can be applied twice.
      this.located = undefined;
      const refused = res.kind === 'unreachable' && res.message.startsWith('ECONNREFUSED');
      try {
        const fresh = this.where();
        if (refused && fresh.url.href !== loc.url.href) res = await send(fresh);
      } catch {
        // no daemon.json or token now: report the original failure
      }
    }
    switch (res.kind) {
      case 'timeout':
        return { ok: false, error: { code: 'UPSTREAM_TIMEOUT', message: `the daemon did not answer ${verb} within ${opts.timeoutMs} ms` } };
      case 'tooLarge':
        return { ok: false, error: { code: 'RESPONSE_TOO_LARGE', message: `the daemon's answer to ${verb} exceeds ${opts.maxBytes} bytes` } };
      case 'unreachable':
        return { ok: false, error: { code: 'DAEMON_UNAVAILABLE', message: 'the local daemon is not reachable' } };
      case 'response':
        return interpret(verb, res.status, res.body);
    }
  }

  /** The daemon's workspaces (names only), filtered by the daemon itself when `shares` is given. */
  async listWorkspaces(shares?: readonly string[], timeoutMs = 5000): Promise<DaemonWorkspaceList['workspaces']> {
    const loc = this.locate();
    const headers: Record<string, string> = { authorization: `Bearer ${loc.token}` };
    if (shares) headers[HEADERS.sharedWorkspaces] = shares.join(',');
    const res = await httpJson(new URL(DAEMON_PATHS.workspaces, loc.url), { method: 'GET', headers, timeoutMs, maxBytes: 4 * 1024 * 1024, agent: this.agent });
    if (res.kind !== 'response') {
      throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon at ${loc.url.origin} is not reachable (${res.kind === 'unreachable' ? res.message : res.kind}); is \`sluice start\` running?`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon at ${loc.url.origin} refused the connector's token (${res.status}); check ${join(this.location.home, 'daemon.token')}`);
    }
    const parsed = DaemonWorkspaceList.safeParse(res.body);
    if (res.status !== 200 || !parsed.success) {
      throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon at ${loc.url.origin} answered GET ${DAEMON_PATHS.workspaces} with status ${res.status}`);
    }
    return parsed.data.workspaces;
  }
}

function readDaemonJsonUrl(home: string): string {
  const path = join(home, 'daemon.json');
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon is not running (no ${path}); start it with \`sluice start\``);
  }
  try {
    const value = JSON.parse(raw) as { url?: unknown };
    if (typeof value.url === 'string') return value.url;
  } catch {
    // fall through: a torn or foreign file means the same as no daemon
  }
  throw new SluiceError('DAEMON_UNAVAILABLE', `${path} has no daemon URL`);
}

function interpret(verb: string, status: number, body: unknown): DaemonCallResult {
  if (status >= 200 && status < 300) return { ok: true, output: body };
  if (status === 401 || status === 403) {
    const parsedAuth = ErrorBody.safeParse(body);
    if (!parsedAuth.success || ['UNAUTHENTICATED', 'HOST_NOT_ALLOWED', 'ORIGIN_NOT_ALLOWED'].includes(parsedAuth.data.code)) {
      // The daemon refused the connector itself; telling the planner "unauthenticated" would point at the wrong party.
      return { ok: false, error: { code: 'DAEMON_UNAVAILABLE', message: 'the local daemon refused the connector (daemon token or host check)' } };
    }
  }
  const parsed = ErrorBody.safeParse(body);
  if (parsed.success && isErrorCode(parsed.data.code)) return { ok: false, error: parsed.data };
  return { ok: false, error: { code: 'UPSTREAM_ERROR', message: `the daemon answered ${verb} with status ${status} and no readable error` } };
}
