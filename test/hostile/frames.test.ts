// Hostile frames on both sides of the relay↔connector websocket, over real sockets.
// Relay side: a scripted connector with a real Ed25519 key sends forged upgrades and malformed frames.
// Connector side: a scripted relay (the compromised-relay case) sends hostile request frames to the real connector
// session loop, in front of a real daemon whose ledger must not move.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, runConnector, saveConnectorConfig } from '@sluice/connector';
import { CLOSE_CODES, LIMITS, PROTOCOL_VERSION, relayVerbPath } from '@sluice/shared-protocol';
import type { Frame } from '@sluice/shared-protocol';
import { connectorFieldCases, FAKE } from './cases.js';
import { recordCount } from './expect.js';
import { FakeConnector, FakeRelay, FrameTap, git, rowCounts } from '@sluice/test-kit';
import type { FakeSession } from '@sluice/test-kit';
import { listTree, startDaemonApp, startInProcessStack, untouchedCounts } from './in-process-stack.js';
import type { DaemonPart, InProcessStack } from './in-process-stack.js';

// ---------------------------------------------------------------------------------------------------------------
// Relay side
// ---------------------------------------------------------------------------------------------------------------

describe('relay side: forged upgrades and malformed connector frames', () => {
  let s: InProcessStack;
  let c: FakeConnector;
  let runId: string;

  beforeAll(async () => {
    s = await startInProcessStack();
    c = new FakeConnector(s.relayUrl, []);
    await c.enroll((await s.relayStore.createEnrollmentToken(s.orgA.orgId, 60_000)).secret);
    const res = await s.relay.app.inject({ method: 'POST', url: relayVerbPath('runs.open'), headers: { authorization: `Bearer ${s.orgA.token}` }, payload: { workspaceId: 'web', instanceId: s.instanceId } });
    runId = (res.json() as { runId: string }).runId;
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  async function stillServes(): Promise<void> {
    const res = await s.relay.app.inject({ method: 'POST', url: relayVerbPath('runs.get'), headers: { authorization: `Bearer ${s.orgA.token}` }, payload: { runId } });
    expect(res.statusCode).toBe(200);
  }

  it('forged, replayed, expired, skewed, cross-instance and revoked upgrade credentials never open a socket', async () => {
    const before = s.snapshot();
    const other = generateKeyPairSync('ed25519').privateKey;
    const cases: Array<[string, () => Promise<string | undefined>, number, string]> = [
      ['no header', async () => undefined, 401, 'AUTH_FAILED'],
      ['garbage', async () => 'not-base64-json', 401, 'AUTH_FAILED'],
      ['oversized header', async () => 'A'.repeat(4096), 401, 'AUTH_FAILED'],
      ['proto frame', async () => Buffer.from('{"__proto__":{"type":"auth"}}').toString('base64url'), 401, 'AUTH_FAILED'],
      ['nonce never issued', async () => c.authHeader(randomBytes(32).toString('base64url')), 401, 'AUTH_FAILED'],
      ['wrong key (forged signature)', async () => c.authHeader(await c.nonce(), { key: other }), 401, 'AUTH_FAILED'],
      ['zero signature', async () => c.authHeader(await c.nonce(), { signature: 'A'.repeat(86) }), 401, 'AUTH_FAILED'],
      ['signed for another relay origin', async () => c.authHeader(await c.nonce(), { relayOrigin: 'https://evil.example' }), 401, 'AUTH_FAILED'],
      ['clock skew', async () => c.authHeader(await c.nonce(), { timestamp: Date.now() - 10 * 60_000 }), 401, 'CLOCK_SKEW'],
      ['nonce issued to another instance', async () => c.authHeader(await c.nonce(s.instanceId)), 401, 'AUTH_FAILED'],
      ['another instance with my key', async () => c.authHeader(await c.nonce(s.instanceId), { instanceId: s.instanceId }), 401, 'AUTH_FAILED'],
      ['unknown instance', async () => c.authHeader(await c.nonce(FAKE.instanceId), { instanceId: FAKE.instanceId }), 404, 'INSTANCE_NOT_FOUND'],
    ];
    for (const [label, make, status, code] of cases) {
      const r = await c.upgrade(await make());
      expect(`${r.status} ${r.code}`, label).toBe(`${status} ${code}`);
      expect(r.ws, label).toBeUndefined();
    }
    // Replay: a header that worked once never works again.
    const header = c.authHeader(await c.nonce());
    const ok = await c.upgrade(header);
    expect(ok.ws).toBeDefined();
    ok.ws!.close();
    const replay = await c.upgrade(header);
    expect(`${replay.status} ${replay.code}`).toBe('401 SIGNATURE_REPLAYED');
    // Wrong path: no websocket anywhere else.
    const wrongPath = await c.upgrade(c.authHeader(await c.nonce()), '/mcp');
    expect(`${wrongPath.status} ${wrongPath.code}`).toBe('404 NOT_FOUND');
    expect({ ...s.snapshot(), relay: { ...s.snapshot().relay } }).toEqual(before);
    expect(s.relay.hub.get(s.instanceId)?.state).toBe('ready');
    await stillServes();
    recordCount('frames.relayUpgrade', cases.length + 2);
  });

  it('malformed frames get an error frame or a protocol close; the relay and the real connector keep serving', async () => {
    const before = s.snapshot();
    const sess = await c.session();
    const errorCases: Array<[string, unknown, string]> = [
      ['not json', '{"type":', 'MALFORMED_JSON'],
      ['json scalar', '42', 'INVALID_INPUT'],
      ['unknown type', { type: 'exec', cmd: 'rm -rf /' }, 'INVALID_INPUT'],
      ['proto type', '{"type":"__proto__"}', 'INVALID_INPUT'],
      ['hello missing fields', { type: 'hello' }, 'INVALID_INPUT'],
      ['hello with extra key', { type: 'hello', protocolVersion: PROTOCOL_VERSION, connectorVersion: 'x', workspaces: [], admin: true }, 'INVALID_INPUT'],
      ['hello with traversal workspace', { type: 'hello', protocolVersion: PROTOCOL_VERSION, connectorVersion: 'x', workspaces: [{ workspaceId: '../etc', name: 'x', executors: [], validations: [], approvalPolicy: 'none', remoteApprovals: true }] }, 'INVALID_INPUT'],
      ['response with output and error', { type: 'response', id: 'abc', ok: false, output: 1, error: { code: 'INTERNAL', message: 'x' } }, 'INVALID_INPUT'],
      ['error frame with lowercase code', { type: 'error', code: 'oops', message: 'x', fatal: false }, 'INVALID_INPUT'],
      ['request from the connector', { type: 'request', id: 'r1', verb: 'runs.open', input: {}, actor: 'local:root', deadlineMs: 1000 }, 'BAD_REQUEST'],
      ['welcome from the connector', { type: 'welcome', protocolVersion: PROTOCOL_VERSION, instanceId: c.instanceId, heartbeatMs: 1000 }, 'BAD_REQUEST'],
      ['challenge from the connector', { type: 'challenge', nonce: 'a'.repeat(43), relayOrigin: 'https://evil.example', serverTime: 0, expiresAt: 0 }, 'BAD_REQUEST'],
      ['bidi in a frame id', { type: 'response', id: 'a\u202Eb', ok: true, output: {} }, 'INVALID_INPUT'],
      ['goodbye with an oversized reason', { type: 'goodbye', reason: 'r'.repeat(501) }, 'INVALID_INPUT'],
    ];
    for (const [label, frame, code] of errorCases) {
      sess.send(frame);
      const f = await sess.next((x) => x.type === 'error');
      expect(f.type === 'error' && `${f.code} fatal=${String(f.fatal)}`, label).toBe(`${code} fatal=false`);
    }
    // An answer to a request that was never sent, and a pong out of turn, are ignored.
    sess.send({ type: 'response', id: 'never-sent', ok: true, output: { runId: FAKE.runId } });
    sess.send({ type: 'pong', ts: 1 });
    sess.send({ type: 'ping', ts: 7 });
    expect(await sess.next((x) => x.type === 'pong')).toEqual({ type: 'pong', ts: 7 });
    // A 2 MiB+ frame and a binary frame end nothing but this socket.
    sess.send('x'.repeat(LIMITS.frameBytes + 10));
    sess.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    sess.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await sess.closedWith()).toBe(CLOSE_CODES.protocolError);
    // Unsupported protocol version: fatal error frame, then the dedicated close code.
    const r = await c.upgrade(c.authHeader(await c.nonce()));
    const v = new FrameTap(r.ws!);
    v.send({ type: 'hello', protocolVersion: '1999-01-01', connectorVersion: 'x', workspaces: [] });
    const fatal = await v.next((x) => x.type === 'error');
    expect(fatal).toMatchObject({ code: 'UNSUPPORTED_PROTOCOL_VERSION', fatal: true });
    expect(await v.closedWith()).toBe(CLOSE_CODES.unsupportedVersion);
    // The ledger, relay tables, artifacts and repo refs did not move, and the real instance still answers.
    const after = s.snapshot();
    expect(after).toEqual(before);
    expect(s.relay.hub.get(s.instanceId)?.state).toBe('ready');
    await stillServes();
    recordCount('frames.relay', errorCases.length + 5);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Connector side: a compromised relay
// ---------------------------------------------------------------------------------------------------------------

describe('connector side: hostile request frames from a compromised relay never reach the daemon', () => {
  let root: string;
  let d: DaemonPart;
  let relay: FakeRelay;
  let abort: AbortController;
  let done: Promise<unknown>;
  let sess: FakeSession;
  let sessions = 0;
  const welcomed = () => relay.waitForSession(++sessions);
  let privateRunId: string;
  let seq = 0;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-hostile-frames-'));
    d = await startDaemonApp(root, { extraWorkspace: 'secret' });
    // The operator's own run in a workspace that is not shared.
    const res = await d.app.inject({ method: 'POST', url: '/api/v1/verbs/runs.open', headers: { host: `127.0.0.1:${d.port}`, authorization: `Bearer ${d.token}` }, payload: { workspaceId: 'secret' } });
    privateRunId = (res.json() as { runId: string }).runId;
    relay = await FakeRelay.start({ heartbeatMs: 30_000, pinging: false });
    const id = generateIdentity();
    relay.addInstance(FAKE.instanceId, id.publicKey);
    const configPath = join(root, 'connector.json');
    saveConnectorConfig(configPath, {
      version: 1,
      relayUrl: relay.url,
      relayOrigin: relay.url,
      instanceId: FAKE.instanceId,
      orgId: 'org_01JAAAAAAAAAAAAAAAAAAAAAAA',
      name: 'laptop',
      privateKey: id.privateKeyPem,
      daemon: { home: d.home.root },
      shares: ['web'],
      tls: { insecure: false },
    });
    abort = new AbortController();
    const first = welcomed();
    done = runConnector({ configPath, statePath: join(root, 'state.json'), env: { SLUICE_HOME: d.home.root }, log: pino({ level: 'silent' }), signal: abort.signal, backoff: { baseMs: 50, capMs: 200 }, drainMs: 100 });
    sess = await first;
  }, 30_000);

  afterAll(async () => {
    abort?.abort();
    await relay?.close();
    await done?.catch(() => undefined);
    await d?.app.close();
    d?.store.close();
    rmSync(root, { recursive: true, force: true });
  }, 30_000);

  const ledger = () => ({ rows: untouchedCounts(d.store.db), audit: rowCounts(d.store.db, ['audit']), artifacts: listTree(d.home.artifacts), refs: git(d.repo, 'for-each-ref') });

  async function ask(verb: string, input: unknown, actor = 'planner:org_x/tok_y'): Promise<Frame> {
    const id = `q${++seq}`;
    sess.send({ type: 'request', id, verb, input, actor, deadlineMs: 5000 });
    return sess.next((f) => (f.type === 'response' || f.type === 'error') && (f as { id?: string }).id === id);
  }

  it('verbs outside the table, schema-failing input and unshared workspaces are answered without a daemon call', async () => {
    const before = ledger();
    const cases: Array<[string, string, unknown, string]> = [
      ['proto verb', '__proto__', {}, 'UNKNOWN_VERB'],
      ['constructor verb', 'constructor', {}, 'UNKNOWN_VERB'],
      ['relay-only verb', 'instances.list', {}, 'UNKNOWN_VERB'],
      ['operator route as verb', '../workspaces', { path: '/etc' }, 'UNKNOWN_VERB'],
      ['unshared workspace', 'runs.open', { workspaceId: 'secret' }, 'WORKSPACE_NOT_FOUND'],
      ['prototype workspace', 'runs.open', { workspaceId: 'constructor' }, 'WORKSPACE_NOT_FOUND'],
    ];
    for (const c of connectorFieldCases()) {
      cases.push([`${c.verb} ${c.label}`, c.verb, c.body, 'INVALID_INPUT']);
    }
    for (const [label, verb, input, code] of cases) {
      const f = await ask(verb, input);
      expect(f.type === 'response' && !f.ok ? f.error?.code : JSON.stringify(f), label).toBe(code);
    }
    // Nothing reached the daemon: not even an audit row (the daemon audits every call it refuses).
    expect(ledger()).toEqual(before);
    recordCount('frames.connectorRequests', cases.length);
  }, 30_000);

  it("a relay cannot reach an unshared workspace's runs through ids", async () => {
    const before = ledger();
    const f = await ask('runs.get', { runId: privateRunId });
    expect(f.type === 'response' && !f.ok && f.error?.code).toBe('RUN_NOT_FOUND');
    const g = await ask('events.list', { runId: privateRunId });
    expect(g.type === 'response' && !g.ok && g.error?.code).toBe('RUN_NOT_FOUND');
    expect(ledger().rows).toEqual(before.rows);
    recordCount('frames.connectorIds', 2);
  });

  it('a relay cannot act as a local operator or the system in the daemon ledger', async () => {
    const before = ledger();
    const actors = ['local:root', 'system:daemon'];
    for (const actor of actors) {
      const f = await ask('runs.open', { workspaceId: 'web', title: 'impersonation' }, actor);
      expect(f.type === 'response' && !f.ok ? f.error?.code : JSON.stringify(f).slice(0, 200), actor).toBe('FORBIDDEN');
    }
    expect(ledger().rows).toEqual(before.rows);
    const rows = d.store.db.prepare("SELECT count(*) AS n FROM runs WHERE created_by LIKE 'local:%' OR created_by LIKE 'system:%'").get() as { n: number };
    expect(rows.n).toBe(1);
    recordCount('frames.connectorActors', actors.length);
  });

  it('frames meant for the other direction are ignored; the same session keeps serving', async () => {
    const before = ledger();
    const frames: Array<[string, unknown]> = [
      ['hello', { type: 'hello', protocolVersion: PROTOCOL_VERSION, connectorVersion: 'x', workspaces: [] }],
      ['auth', { type: 'auth', instanceId: FAKE.instanceId, nonce: 'n'.repeat(43), timestamp: Date.now(), signature: 'A'.repeat(86) }],
      ['response to nothing', { type: 'response', id: 'nothing', ok: true, output: { runId: FAKE.runId } }],
      ['pong out of turn', { type: 'pong', ts: -1 }],
      ['welcome for another instance', { type: 'welcome', protocolVersion: PROTOCOL_VERSION, instanceId: 'ins_01JZZZZZZZZZZZZZZZZZZZZZZZ', heartbeatMs: 1000 }],
      ['challenge on the socket', { type: 'challenge', nonce: 'c'.repeat(43), relayOrigin: 'https://evil.example', serverTime: 0, expiresAt: 0 }],
      ['non-fatal error frame', { type: 'error', code: 'INTERNAL', message: 'x', fatal: false }],
    ];
    for (const [, frame] of frames) sess.send(frame);
    sess.send({ type: 'ping', ts: 99 });
    expect(await sess.next((f) => f.type === 'pong')).toEqual({ type: 'pong', ts: 99 });
    const ok = await ask('runs.list', {});
    expect(ok.type === 'response' && ok.ok).toBe(true);
    expect(sess.closed).toBeUndefined();
    expect(ledger().rows).toEqual(before.rows);
    recordCount('frames.connectorUnexpected', frames.length);
  });

  it('a goodbye naming a prototype key is not mistaken for a reason to stop: the connector reconnects', async () => {
    const codes = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
    let stopped = false;
    void done.then(() => (stopped = true));
    for (const code of codes) {
      const again = welcomed();
      sess.send({ type: 'goodbye', reason: 'bye', code });
      sess.ws.close(1000, 'bye');
      sess = await Promise.race([again, new Promise<FakeSession>((_, reject) => setTimeout(() => reject(new Error(`no reconnect after goodbye ${code}`)), 10_000))]);
      expect(stopped, code).toBe(false);
    }
    const ok = await ask('runs.list', {});
    expect(ok.type === 'response' && ok.ok).toBe(true);
    recordCount('frames.connectorGoodbye', codes.length);
  }, 60_000);

  it('malformed relay frames get an error frame and the connector keeps serving', async () => {
    const before = ledger();
    const malformed: Array<[string, unknown]> = [
      ['not json', '{"type":"request",'],
      ['unknown type', { type: 'shell', argv: ['sh'] }],
      ['request without actor', { type: 'request', id: 'm1', verb: 'runs.list', input: {}, deadlineMs: 1000 }],
      ['request with bidi actor', { type: 'request', id: 'm2', verb: 'runs.list', input: {}, actor: 'planner:a\u202Eb', deadlineMs: 1000 }],
      ['request with huge deadline', { type: 'request', id: 'm3', verb: 'runs.list', input: {}, actor: 'planner:a/b', deadlineMs: 10 ** 9 }],
      ['proto request', '{"type":"request","__proto__":{"verb":"runs.open"},"id":"m4"}'],
    ];
    for (const [label, frame] of malformed) {
      sess.send(frame);
      const f = await sess.next((x) => x.type === 'error' || (x.type === 'response' && !x.ok));
      const code = f.type === 'error' ? f.code : f.type === 'response' ? f.error?.code : '';
      expect(['MALFORMED_JSON', 'INVALID_INPUT'], `${label}: ${JSON.stringify(f)}`).toContain(code);
    }
    expect(ledger()).toEqual(before);
    // Still serving a good request.
    const ok = await ask('runs.list', {});
    expect(ok.type === 'response' && ok.ok).toBe(true);
    recordCount('frames.connectorMalformed', malformed.length);
  });
});
