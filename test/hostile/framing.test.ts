// Requests the HTTP layer itself refuses, sent as raw bytes on real sockets to a real daemon and a real relay: a
// Content-Length that disagrees with the body, a bad URL, an unknown route, bad JSON, bad framing, huge headers, a
// body that never comes. Both servers answer each with the same catalog code and a `{code, message}` body.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonVerbPath, ERROR_CATALOG, isErrorCode, RELAY_PATHS, type CatalogEntry } from '@sluice/shared-protocol';
import { recordCount } from './expect.js';
import { startServerPair } from './in-process-stack.js';
import type { ServerPair } from './in-process-stack.js';
import { framingCases, INJECTED_LENGTH_CASES } from './cases.js';

/** Receive timeout the servers are built with here, so the "body never comes" case ends soon. */
const RECEIVE_MS = 1000;

interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Send raw bytes, read until the server closes the connection, and split what came back into responses. */
function rawExchange(port: number, bytes: string): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const giveUp = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the server did not close the connection; got so far: ${got.toString('latin1')}`));
    }, 15_000);
    sock.on('connect', () => sock.write(bytes, 'latin1'));
    sock.on('data', (d) => (got = Buffer.concat([got, d])));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(giveUp);
      resolve(parseResponses(got));
    });
  });
}

function parseResponses(buf: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = buf;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`not an HTTP response: ${rest.toString('latin1')}`);
    const [statusLine, ...headerLines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers.get('content-length') ?? NaN);
    if (!Number.isInteger(length)) throw new Error(`a response without Content-Length: ${statusLine}`);
    out.push({ status: Number(statusLine!.split(' ')[1]), contentType: headers.get('content-type') ?? '', body: rest.subarray(end + 4, end + 4 + length).toString('utf8') });
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}

/** The catalog code of an answer, or what is wrong with it: its status must be the code's and its body the catalog's error body. */
function catalogCode(r: RawResponse): string {
  if (!/^application\/json/.test(r.contentType)) return `not JSON (${r.status} ${r.contentType}): ${r.body}`;
  const body = JSON.parse(r.body) as Record<string, unknown>;
  const code = String(body.code);
  const keys = Object.keys(body).filter((k) => k !== 'retryAfterMs').sort().join();
  const entry: CatalogEntry | undefined = isErrorCode(code) ? ERROR_CATALOG[code] : undefined;
  const retryable = entry?.retryable === true;
  if (keys !== 'code,hint,message,retryable' || typeof body.message !== 'string' || typeof body.hint !== 'string' || body.retryable !== retryable) return `not {code, message, hint, retryable} (${r.status}): ${r.body}`;
  if (!isErrorCode(code) || ERROR_CATALOG[code].status !== r.status) return `${r.status} with code ${code}`;
  return code;
}

async function runFramingCases(app: FastifyInstance, host: string, postPath: string, auth: string): Promise<number> {
  const port = (app.server.address() as AddressInfo).port;
  const cases = framingCases({ host, postPath, auth });
  const got: Record<string, string[]> = {};
  for (const c of cases) got[c.name] = (await rawExchange(port, c.bytes)).map(catalogCode);
  for (const c of INJECTED_LENGTH_CASES) {
    const res = await app.inject({ method: 'POST', url: postPath, headers: { host, authorization: auth, 'content-type': 'application/json', 'content-length': c.contentLength }, payload: c.payload });
    got[`injected Content-Length ${c.contentLength} for ${c.payload.length} bytes`] = [catalogCode({ status: res.statusCode, contentType: String(res.headers['content-type']), body: res.body })];
  }
  const expected = Object.fromEntries([
    ...cases.map((c) => [c.name, c.expect]),
    ...INJECTED_LENGTH_CASES.map((c) => [`injected Content-Length ${c.contentLength} for ${c.payload.length} bytes`, ['BAD_REQUEST']]),
  ]);
  expect(got).toEqual(expected);
  return Object.keys(got).length;
}

describe('requests the HTTP layer refuses get a catalog answer from both servers', () => {
  let servers: ServerPair;

  beforeAll(async () => {
    servers = await startServerPair('sluice-hostile-framing-', RECEIVE_MS);
  }, 30_000);

  afterAll(async () => {
    await servers?.close();
  });

  it('the daemon', async () => {
    const d = servers.daemon;
    recordCount('daemon.framing', await runFramingCases(d.app, `127.0.0.1:${d.port}`, daemonVerbPath('runs.get'), `Bearer ${d.token}`));
  }, 60_000);

  it('the relay', async () => {
    recordCount('relay.framing', await runFramingCases(servers.relay.app, `127.0.0.1:${servers.relayPort}`, RELAY_PATHS.enroll, 'Bearer slc_enr_x'));
  }, 60_000);
});
