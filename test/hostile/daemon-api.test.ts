// Hostile input against the daemon's /api/v1 (in process, app.inject): every verb route and operator route.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { BODY_LIMIT } from '@sluice/daemon';
import { daemonVerbPath } from '@sluice/shared-protocol';
import { BAD_VERB_NAMES, DAEMON_VERBS, fieldCases, foreignOrigins, rawCases, rebindingHosts, shapeCases } from './cases.js';
import { git, makeRepo, rowCounts } from '@sluice/test-kit';
import { listTree, startDaemonApp, untouchedCounts } from './in-process-stack.js';
import type { DaemonPart } from './in-process-stack.js';
import { expectRefusal, recordCount } from './expect.js';


let root: string;
let d: DaemonPart;
let host: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sluice-hostile-daemon-'));
  d = await startDaemonApp(root);
  host = `127.0.0.1:${d.port}`;
}, 30_000);

afterAll(async () => {
  await d?.app.close();
  d?.store.close();
  rmSync(root, { recursive: true, force: true });
});

function inject(opts: InjectOptions & { headers?: Record<string, string> }) {
  return d.app.inject({ ...opts, headers: { host, authorization: `Bearer ${d.token}`, ...opts.headers } });
}

const state = () => ({
  ledger: untouchedCounts(d.store.db),
  artifacts: listTree(d.home.artifacts),
  refs: git(d.repo, 'for-each-ref'),
  config: readFileSync(d.home.config, 'utf8'),
});

/** A good request still works after the hostile ones. */
async function stillServes(): Promise<void> {
  const res = await inject({ method: 'POST', url: daemonVerbPath('runs.list'), payload: {} });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toHaveProperty('runs');
}

describe('daemon /api/v1 verb routes refuse hostile bodies with a catalog code and write nothing', () => {
  it('field-level: wrong types, traversal, unicode tricks, SQL, prototype keys in every field of every verb', async () => {
    const before = state();
    const cases = fieldCases(DAEMON_VERBS);
    for (const c of cases) {
      const res = await inject({ method: 'POST', url: daemonVerbPath(c.verb), payload: JSON.stringify(c.body), headers: { 'content-type': 'application/json' } });
      expectRefusal(res, `${c.verb} ${c.label}`, { status: 400, code: c.label.endsWith('proto-object') ? 'MALFORMED_JSON' : 'INVALID_INPUT' });
    }
    expect(state()).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    await stillServes();
    recordCount('daemon.fields', cases.length);
  }, 60_000);

  it('body-level: arrays, scalars, null, unknown keys, __proto__ and constructor.prototype', async () => {
    const before = state();
    const cases = shapeCases(DAEMON_VERBS);
    for (const c of cases) {
      const res = await inject({ method: 'POST', url: daemonVerbPath(c.verb), payload: JSON.stringify(c.body), headers: { 'content-type': 'application/json' } });
      expectRefusal(res, `${c.verb} ${c.label}`, { status: 400, code: c.label === 'proto-key' || c.label === 'constructor-prototype' ? 'MALFORMED_JSON' : 'INVALID_INPUT' });
    }
    expect(state()).toEqual(before);
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    await stillServes();
    recordCount('daemon.shapes', cases.length);
  });

  it('raw bodies: malformed JSON, wrong media types, oversized', async () => {
    const before = state();
    const cases = rawCases(BODY_LIMIT, DAEMON_VERBS);
    for (const c of cases) {
      const res = await inject({ method: 'POST', url: daemonVerbPath(c.verb), payload: c.payload, headers: { 'content-type': c.contentType } });
      expectRefusal(res, `${c.verb} ${c.label}`, { status: c.status, code: c.code });
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.raw', cases.length);
  });

  it('names that are not verbs, including prototype keys, are UNKNOWN_VERB', async () => {
    const before = state();
    for (const name of [...BAD_VERB_NAMES, 'instances.list']) {
      const res = await inject({ method: 'POST', url: `/api/v1/verbs/${name}`, payload: {} });
      expectRefusal(res, name, { status: 404, code: 'UNKNOWN_VERB' });
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.verbNames', BAD_VERB_NAMES.length + 1);
  });
});

describe('daemon credentials, Host and Origin', () => {
  const badAuth = (token: string): Array<[string, string | undefined]> => [
    ['missing', undefined],
    ['empty', ''],
    ['basic', `Basic ${Buffer.from(`x:${token}`).toString('base64')}`],
    ['lowercase-scheme-wrong-token', 'bearer nope'],
    ['forged', `Bearer ${'a'.repeat(token.length)}`],
    ['truncated', `Bearer ${token.slice(0, -1)}`],
    ['extended', `Bearer ${token}x`],
    ['double-space', `Bearer  ${token}`],
    ['two-tokens', `Bearer ${token}, Bearer ${token}`],
    ['very-long', `Bearer ${'b'.repeat(8000)}`],
    ['query-string-only', undefined],
  ];

  it('a wrong or missing token is 401 UNAUTHENTICATED, audited by hash, nothing else written', async () => {
    const before = state();
    const auditBefore = rowCounts(d.store.db, ['audit']).audit ?? 0;
    const cases = badAuth(d.token);
    for (const [label, value] of cases) {
      const headers: Record<string, string> = { host, 'content-type': 'application/json' };
      if (value !== undefined) headers.authorization = value;
      const url = label === 'query-string-only' ? `${daemonVerbPath('runs.list')}?access_token=${d.token}` : daemonVerbPath('runs.list');
      const res = await d.app.inject({ method: 'POST', url, payload: '{}', headers });
      expectRefusal(res, label, { status: 401, code: 'UNAUTHENTICATED' });
    }
    expect(state()).toEqual(before);
    const audit = d.store.db.prepare('SELECT * FROM audit ORDER BY rowid DESC LIMIT ?').all(cases.length) as Array<Record<string, unknown>>;
    // Refusal rows are rate-limited: one per reason and source per interval, the rest counted into one later row.
    expect(rowCounts(d.store.db, ['audit']).audit).toBeLessThanOrEqual(auditBefore + 1);
    // The token never lands in the audit rows, only its hash.
    expect(JSON.stringify(audit)).not.toContain(d.token);
    await stillServes();
    recordCount('daemon.credentials', cases.length);
  });

  it('DNS-rebinding Host headers are 403 HOST_NOT_ALLOWED even with the right token', async () => {
    const before = state();
    const hosts = rebindingHosts(d.port);
    for (const h of hosts) {
      const res = await d.app.inject({ method: 'POST', url: daemonVerbPath('runs.list'), payload: '{}', headers: { host: h, authorization: `Bearer ${d.token}`, 'content-type': 'application/json' } });
      expectRefusal(res, `host ${h}`, { status: 403, code: 'HOST_NOT_ALLOWED' });
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.hosts', hosts.length);
  });

  it('foreign browser Origins are 403 ORIGIN_NOT_ALLOWED even with the right token', async () => {
    const before = state();
    const origins = foreignOrigins(d.port);
    for (const o of origins) {
      const res = await inject({ method: 'POST', url: daemonVerbPath('runs.open'), payload: { workspaceId: 'web' }, headers: { origin: o } });
      expectRefusal(res, `origin ${o}`, { status: 403, code: 'ORIGIN_NOT_ALLOWED' });
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.origins', origins.length);
  });

  it('hostile x-sluice-actor and x-sluice-shared-workspaces headers are 400 BAD_REQUEST', async () => {
    const before = state();
    const actors = ['admin', 'local:', 'root:x', `planner:a${'\u202E'}b`, 'planner:a b', "planner:a';DROP TABLE runs;--", `local:${'x'.repeat(300)}`];
    const shared = ['../web', 'web,/etc', 'web,..', 'ｗｅｂ', 'web,__proto__\u0000', Array.from({ length: 300 }, (_, i) => `w${i}`).join(',')];
    for (const a of actors) {
      const res = await inject({ method: 'POST', url: daemonVerbPath('runs.open'), payload: { workspaceId: 'web' }, headers: { 'x-sluice-actor': a } });
      expectRefusal(res, `actor ${a}`, { status: 400, code: 'BAD_REQUEST' });
    }
    for (const s of shared) {
      const res = await inject({ method: 'POST', url: daemonVerbPath('runs.open'), payload: { workspaceId: 'web' }, headers: { 'x-sluice-shared-workspaces': s } });
      expectRefusal(res, `shared ${s.slice(0, 40)}`, { status: 400, code: 'BAD_REQUEST' });
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.headers', actors.length + shared.length);
  });

  it('a remote caller naming an unshared workspace sees WORKSPACE_NOT_FOUND; operator routes are FORBIDDEN to it', async () => {
    const before = state();
    const remote = { 'x-sluice-shared-workspaces': 'other', 'x-sluice-actor': 'planner:org_x/tok_y' };
    const cases: Array<[InjectOptions, number, string]> = [
      [{ method: 'POST', url: daemonVerbPath('runs.open'), payload: { workspaceId: 'web' } }, 404, 'WORKSPACE_NOT_FOUND'],
      [{ method: 'POST', url: '/api/v1/workspaces', payload: { path: d.repo, id: 'again' } }, 403, 'FORBIDDEN'],
      [{ method: 'DELETE', url: '/api/v1/workspaces/web' }, 403, 'FORBIDDEN'],
      [{ method: 'GET', url: '/api/v1/status' }, 403, 'FORBIDDEN'],
      [{ method: 'POST', url: '/api/v1/audit/verify', payload: {} }, 403, 'FORBIDDEN'],
      [{ method: 'GET', url: '/api/v1/events' }, 403, 'FORBIDDEN'],
      [{ method: 'GET', url: '/api/v1/events/stream' }, 403, 'FORBIDDEN'],
    ];
    for (const [opts, status, code] of cases) {
      const res = await inject({ ...opts, headers: remote });
      expectRefusal(res, `${opts.method} ${opts.url as string}`, { status, code });
    }
    expect(state()).toEqual(before);
    const list = await inject({ method: 'GET', url: '/api/v1/workspaces', headers: remote });
    expect(list.json()).toEqual({ workspaces: [] });
    recordCount('daemon.remote', cases.length);
  });
});

describe('daemon operator routes: workspace paths and query strings', () => {
  it('workspace add refuses traversal, symlinks, absolute non-repos, NUL and non-repo folders; config.json is unchanged', async () => {
    const outside = makeRepo(join(root, 'outside')).path;
    mkdirSync(join(root, 'plain'), { recursive: true });
    symlinkSync(outside, join(root, 'link-to-repo'));
    symlinkSync('/etc', join(root, 'link-to-etc'));
    mkdirSync(join(outside, 'sub'), { recursive: true });
    const before = state();
    const bodies: Array<[string, unknown, string]> = [
      ['dot-dot', { path: `${outside}/../outside` }, 'BAD_REQUEST'],
      ['relative-traversal', { path: '../../../../etc' }, 'BAD_REQUEST'],
      ['symlink-to-repo', { path: join(root, 'link-to-repo') }, 'BAD_REQUEST'],
      ['symlink-to-etc', { path: join(root, 'link-to-etc') }, 'BAD_REQUEST'],
      ['absolute-etc', { path: '/etc' }, 'BAD_REQUEST'],
      ['not-a-repo', { path: join(root, 'plain') }, 'BAD_REQUEST'],
      ['inside-a-repo', { path: join(outside, 'sub') }, 'BAD_REQUEST'],
      ['missing', { path: join(root, 'nope') }, 'BAD_REQUEST'],
      ['nul-byte', { path: `${outside}\u0000/etc` }, 'BAD_REQUEST'],
      ['bad-id-traversal', { path: outside, id: '../web' }, 'INVALID_INPUT'],
      ['bad-id-proto', { path: outside, id: '__proto__' }, 'INVALID_INPUT'],
      ['bad-id-bidi', { path: outside, id: `w${'\u202E'}eb` }, 'INVALID_INPUT'],
      ['duplicate-id', { path: outside, id: 'web' }, 'BAD_REQUEST'],
      ['duplicate-path', { path: d.repo, id: 'web2' }, 'BAD_REQUEST'],
      ['empty-path', { path: '' }, 'INVALID_INPUT'],
      ['path-wrong-type', { path: ['/etc'] }, 'INVALID_INPUT'],
      ['unknown-key', { path: outside, executors: { x: { adapter: 'command', argv: ['sh'] } } }, 'INVALID_INPUT'],
    ];
    for (const [label, body, code] of bodies) {
      const res = await inject({ method: 'POST', url: '/api/v1/workspaces', payload: body as Record<string, unknown> });
      expectRefusal(res, label, { status: 400, code, operator: true });
    }
    const removes: Array<[string, number, string]> = [
      ['/api/v1/workspaces/..%2F..%2Fetc', 400, 'INVALID_INPUT'],
      ['/api/v1/workspaces/__proto__', 400, 'INVALID_INPUT'],
      ['/api/v1/workspaces/constructor', 404, 'WORKSPACE_NOT_FOUND'],
      ['/api/v1/workspaces/nope', 404, 'WORKSPACE_NOT_FOUND'],
    ];
    for (const [url, status, code] of removes) {
      const res = await inject({ method: 'DELETE', url });
      expectRefusal(res, url, { status, code });
    }
    const queries = ['/api/v1/events?after=-1', '/api/v1/events?limit=100000', '/api/v1/events?runId=../x', "/api/v1/events?runId=x'%20OR%201=1", '/api/v1/events?__proto__=1', '/api/v1/events?after=1e400'];
    for (const url of queries) {
      const res = await inject({ method: 'GET', url });
      expectRefusal(res, url, { status: 400, code: 'INVALID_INPUT' });
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.operator', bodies.length + removes.length + queries.length);
  });

  it('the event stream refuses hostile Last-Event-ID headers and query strings', async () => {
    const before = state();
    const ids = ['-1', 'abc', '1e3', '99999999999999999999', '1; DROP TABLE events', ' 1'];
    for (const id of ids) {
      const res = await inject({ method: 'GET', url: '/api/v1/events/stream', headers: { 'last-event-id': id } });
      expectRefusal(res, `Last-Event-ID ${id}`, { status: 400, code: 'BAD_REQUEST' });
    }
    const queries = ['/api/v1/events/stream?runId=../../x', '/api/v1/events/stream?runId=__proto__'];
    for (const url of queries) {
      const res = await inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(['BAD_REQUEST', 'INVALID_INPUT'], url).toContain((res.json() as { code: string }).code);
    }
    expect(state()).toEqual(before);
    await stillServes();
    recordCount('daemon.sse', ids.length + queries.length);
  });
});
