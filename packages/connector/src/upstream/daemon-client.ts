import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { DAEMON_PATHS, DAEMON_SOCKET_FILE, DaemonWorkspaceList, type ConnectorReport, ErrorBody, HEADERS, SluiceError, daemonVerbPath, isErrorCode } from '@sluice/shared-protocol';
import { httpJson } from '../net/http-json.js';
import type { HttpJsonResult } from '../net/http-json.js';

export interface DaemonLocation {
  /** `SLUICE_HOME` of the daemon (holds its socket and `daemon.token`). */
  home: string;
  /**
   * A TCP daemon URL from an older config. Refused: the token would go to whoever holds that port while the
   * daemon is down.
   */
  url?: string | undefined;
}

export type DaemonCallResult = { ok: true; output: unknown } | { ok: false; error: ErrorBody };

/** Where requests go once they are on the socket: only the path matters, the Host header is not checked there. */
const SOCKET_BASE = new URL('http://localhost');

/** How to start the daemon, for every message that says it is not running. */
export const START_DAEMON_HINT = 'start it with `sluice daemon start`';

/**
 * The connector's only way into the daemon: `/api/v1` over the Unix socket in the daemon's mode-700 home, with the
 * daemon token. Only our own account can create that socket, so the token never reaches another local account
 * (a TCP port, by contrast, is anyone's once the daemon is down, whatever `daemon.json` says).
 */
export class DaemonClient {
  /**
   * Connections to the daemon, bounded so a burst of relay requests queues here instead of opening hundreds of
   * sockets, roomy enough for long-polls (`events.list`, `steps.wait`) not to starve quick calls. Kept alive because a
   * new connection per call doubled the daemon's CPU per request; an idle socket is dropped after 4 s, long
   * before the daemon's own keep-alive timeout (72 s), so the connector never writes to a socket the daemon is
   * closing.
   */
  private readonly agent = new Agent({ keepAlive: true, timeout: 4000, maxSockets: 128, maxFreeSockets: 16 });
  /** The token last read; read again when the daemon refuses it (re-initialised home). */
  private token: string | undefined;

  constructor(private readonly location: DaemonLocation) {}

  /** Close pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  /** The daemon's socket path. */
  get socketPath(): string {
    return join(this.location.home, DAEMON_SOCKET_FILE);
  }

  /** The socket path and token, or throw `DAEMON_UNAVAILABLE` saying what is missing. */
  locate(): { socketPath: string; token: string } {
    if (this.location.url !== undefined) {
      throw new SluiceError('DAEMON_UNAVAILABLE', `daemon.url is no longer supported: the connector reaches the daemon only through ${this.socketPath} (set daemon.home if the daemon's SLUICE_HOME is elsewhere) and remove daemon.url from the config`);
    }
    this.token ??= this.readToken();
    return { socketPath: this.socketPath, token: this.token };
  }

  private readToken(): string {
    const tokenPath = join(this.location.home, 'daemon.token');
    let token: string;
    try {
      token = readFileSync(tokenPath, 'utf8').trim();
    } catch {
      throw new SluiceError('DAEMON_UNAVAILABLE', `cannot read the daemon token at ${tokenPath}; is the daemon initialised (sluice init)?`);
    }
    if (token.length === 0) throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon token at ${tokenPath} is empty`);
    return token;
  }

  private request(path: string, opts: { method: 'GET' | 'POST'; body?: unknown; headers: Record<string, string>; timeoutMs: number; maxBytes: number }): Promise<HttpJsonResult> | SluiceError {
    let loc: { socketPath: string; token: string };
    try {
      loc = this.locate();
    } catch (err) {
      return err as SluiceError;
    }
    return httpJson(new URL(path, SOCKET_BASE), {
      ...opts,
      headers: { ...opts.headers, authorization: `Bearer ${loc.token}` },
      socketPath: loc.socketPath,
      agent: this.agent,
    }).then((res) => {
      if (res.kind === 'response' && res.status === 401) this.token = undefined;
      return res;
    });
  }

  /** `POST /api/v1/verbs/<verb>` on behalf of a remote actor, limited to the shared workspaces. */
  async callVerb(
    verb: string,
    input: unknown,
    opts: { actor: string; shares: readonly string[]; timeoutMs: number; maxBytes: number },
  ): Promise<DaemonCallResult> {
    const res = await this.request(daemonVerbPath(verb), {
      method: 'POST',
      body: input,
      headers: { [HEADERS.actor]: opts.actor, [HEADERS.sharedWorkspaces]: opts.shares.join(',') },
      timeoutMs: opts.timeoutMs,
      maxBytes: opts.maxBytes,
    });
    if (res instanceof SluiceError) return { ok: false, error: res.toBody() };
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

  /** Tell the daemon this connector's state (for the operator console); best effort, never throws. */
  async report(state: ConnectorReport, timeoutMs = 2000): Promise<boolean> {
    const res = await this.request(DAEMON_PATHS.connectorReport, { method: 'POST', body: state, headers: {}, timeoutMs, maxBytes: 64 * 1024 });
    return !(res instanceof SluiceError) && res.kind === 'response' && res.status === 200;
  }

  /** The daemon's workspaces (names only), filtered by the daemon itself when `shares` is given. */
  async listWorkspaces(shares?: readonly string[], timeoutMs = 5000): Promise<DaemonWorkspaceList['workspaces']> {
    const headers: Record<string, string> = {};
    if (shares) headers[HEADERS.sharedWorkspaces] = shares.join(',');
    const res = await this.request(DAEMON_PATHS.workspaces, { method: 'GET', headers, timeoutMs, maxBytes: 4 * 1024 * 1024 });
    if (res instanceof SluiceError) throw res;
    if (res.kind !== 'response') {
      const detail = res.kind === 'unreachable' ? res.message : res.kind;
      const notRunning = res.kind === 'unreachable' && /^(ENOENT|ECONNREFUSED)/.test(res.message);
      throw new SluiceError('DAEMON_UNAVAILABLE', notRunning ? `the daemon is not running (nothing answers on ${this.socketPath}); ${START_DAEMON_HINT}` : `the daemon on ${this.socketPath} is not reachable (${detail})`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon on ${this.socketPath} refused the connector's token (${res.status}); check ${join(this.location.home, 'daemon.token')}`);
    }
    const parsed = DaemonWorkspaceList.safeParse(res.body);
    if (res.status !== 200 || !parsed.success) {
      throw new SluiceError('DAEMON_UNAVAILABLE', `the daemon on ${this.socketPath} answered GET ${DAEMON_PATHS.workspaces} with status ${res.status}`);
    }
    return parsed.data.workspaces;
  }
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
