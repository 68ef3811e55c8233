// Slowloris-style clients on real sockets: a request whose headers or body trickle in must be cut by the server's
// receive timeout, while other clients are served and nothing is written.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteRelayStore } from '@sluice/relay';
import { daemonVerbPath, relayVerbPath } from '@sluice/shared-protocol';
import { startServerPair, untouchedCounts } from './in-process-stack.js';
import type { DaemonPart, ServerPair } from './in-process-stack.js';
import { recordCount } from './expect.js';

/** Receive timeout the servers are built with here; the defaults are longer. */
const RECEIVE_MS = 1000;
/** The test gives up (and fails) if the server has not cut the slow client by then. */
const GIVE_UP_MS = 12_000;

/**
 * Open a raw connection, send the start of a request, then one byte every `everyMs` and never finish. Resolves
 * with what the server answered (if anything) once it closes the connection, or 'still-open' after GIVE_UP_MS.
 */
function trickle(port: number, head: string, everyMs = 200): Promise<{ outcome: 'closed' | 'still-open'; answer: string }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      sock.destroy();
      resolve({ outcome: 'still-open', answer });
    }, GIVE_UP_MS);
    sock.on('connect', () => {
      sock.write(head);
      timer = setInterval(() => {
        if (!sock.destroyed) sock.write('x');
      }, everyMs);
    });
    sock.on('data', (d) => (answer += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ outcome: 'closed', answer });
    });
  });
}

function slowCases(host: string, path: string, auth: string): Array<[string, string]> {
  return [
    ['slow body', `POST ${path} HTTP/1.1\r\nhost: ${host}\r\nauthorization: ${auth}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"a":"`],
    ['slow headers', `POST ${path} HTTP/1.1\r\nhost: ${host}\r\nx-slow: `],
    ['slow chunked body', `POST ${path} HTTP/1.1\r\nhost: ${host}\r\nauthorization: ${auth}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1000\r\n{"a":"`],
  ];
}

describe('slow clients are cut by the receive timeout', () => {
  let servers: ServerPair;
  let d: DaemonPart;
  let relayStore: SqliteRelayStore;
  let relayPort: number;

  beforeAll(async () => {
    servers = await startServerPair('sluice-hostile-slow-', RECEIVE_MS);
    ({ daemon: d, relayStore, relayPort } = servers);
  }, 30_000);

  afterAll(async () => {
    await servers?.close();
  });

  it('the daemon cuts slow headers and slow bodies and keeps serving others meanwhile', async () => {
    const before = untouchedCounts(d.store.db);
    const cases = slowCases(`127.0.0.1:${d.port}`, daemonVerbPath('runs.open'), `Bearer ${d.token}`);
    const pending = cases.map(([, head]) => trickle(d.port, head));
    // While they trickle, a normal client is served.
    const ok = await fetch(`${d.url}${daemonVerbPath('runs.list')}`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(ok.status).toBe(200);
    const results = await Promise.all(pending);
    results.forEach((r, i) => expect(r.outcome, cases[i]![0]).toBe('closed'));
    expect(untouchedCounts(d.store.db)).toEqual(before);
    recordCount('slow.daemon', cases.length);
  }, 30_000);

  it('the relay cuts slow headers and slow bodies and keeps serving others meanwhile', async () => {
    const before = untouchedCounts(relayStore.db);
    const cases = slowCases(`127.0.0.1:${relayPort}`, relayVerbPath('runs.open'), 'Bearer slc_pat_x');
    const pending = cases.map(([, head]) => trickle(relayPort, head));
    const ok = await fetch(`http://127.0.0.1:${relayPort}/healthz`);
    expect(ok.status).toBe(200);
    const results = await Promise.all(pending);
    results.forEach((r, i) => expect(r.outcome, cases[i]![0]).toBe('closed'));
    expect(untouchedCounts(relayStore.db)).toEqual(before);
    recordCount('slow.relay', cases.length);
  }, 30_000);
});
