// Hostile input against the relay's /api/v2, admin, enrollment and challenge routes, with a real connector and a
// real daemon behind it, all in process: nothing hostile may reach the daemon ledger or the relay tables.
import { symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { generateSecret } from '@sluice/relay';
import { RELAY_PATHS, relayVerbPath, VERB_NAMES } from '@sluice/shared-protocol';
import { BAD_VERB_NAMES, FAKE, fieldCases, rawCases, shapeCases } from './cases.js';
import { expectRefusal, recordCount } from './expect.js';
import { startInProcessStack } from './in-process-stack.js';
import type { InProcessStack } from './in-process-stack.js';

let s: InProcessStack;
/** A real run of org A, opened through the relay, and an artifact recorded on it. */
let runA: { runId: string; stepId: string; digest: string; otherRunDigest: string };

beforeAll(async () => {
  s = await startInProcessStack();
  const open = await call(s.orgA.token, 'runs.open', { workspaceId: 'web', title: 'org A run' });
  expect(open.statusCode).toBe(200);
  const runId = (open.json() as { runId: string }).runId;
  const step = await call(s.orgA.token, 'steps.dispatch', { runId, executor: 'sim', task: 'write a.txt\nhi', idempotencyKey: 'once' });
  expect(step.statusCode).toBe(200);
  const other = await call(s.orgA.token, 'runs.open', { workspaceId: 'web', title: 'other run' });
  const otherRunId = (other.json() as { runId: string }).runId;
  const blob = await s.daemon.artifacts.putBuffer('artifact of run A\n');
  s.daemon.store.addArtifactRef({ digest: blob.digest, size: blob.size, mediaType: 'text/plain', kind: 'log', name: 'a.log', runId, stepId: null, attemptId: null } as never, 'system:test');
  const otherBlob = await s.daemon.artifacts.putBuffer('artifact of the other run\n');
  s.daemon.store.addArtifactRef({ digest: otherBlob.digest, size: otherBlob.size, mediaType: 'text/plain', kind: 'log', name: 'b.log', runId: otherRunId, stepId: null, attemptId: null } as never, 'system:test');
  runA = { runId, stepId: (step.json() as { stepId: string }).stepId, digest: blob.digest, otherRunDigest: otherBlob.digest };
}, 60_000);

afterAll(async () => {
  await s?.close();
}, 30_000);

function call(token: string | undefined, verb: string, body: unknown, headers: Record<string, string> = {}) {
  return s.relay.app.inject({
    method: 'POST',
    url: relayVerbPath(verb),
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
}

function inject(opts: InjectOptions) {
  return s.relay.app.inject(opts);
}

/** A good request through the whole chain still works afterwards. */
async function stillServes(): Promise<void> {
  const res = await call(s.orgA.token, 'runs.get', { runId: runA.runId });
  expect(res.statusCode).toBe(200);
  expect((res.json() as { runId: string }).runId).toBe(runA.runId);
}

describe('relay /api/v2 refuses hostile bodies before anything is forwarded', () => {
  it('field-level hostile values in every field of every verb', async () => {
    const before = s.snapshot();
    const cases = fieldCases();
    for (const c of cases) {
      const res = await call(s.orgA.token, c.verb, c.body);
      expectRefusal(res, `${c.verb} ${c.label}`, { status: 400, code: c.label.endsWith('proto-object') ? 'MALFORMED_JSON' : 'INVALID_INPUT' });
    }
    expect(s.snapshot()).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    await stillServes();
    recordCount('relay.fields', cases.length);
  }, 60_000);

  it('body-level shapes and prototype keys', async () => {
    const before = s.snapshot();
    const cases = shapeCases();
    for (const c of cases) {
      const res = await call(s.orgA.token, c.verb, c.body);
      expectRefusal(res, `${c.verb} ${c.label}`, { status: 400, code: c.label === 'proto-key' || c.label === 'constructor-prototype' ? 'MALFORMED_JSON' : 'INVALID_INPUT' });
    }
    expect(s.snapshot()).toEqual(before);
    await stillServes();
    recordCount('relay.shapes', cases.length);
  });

  it('raw bodies: malformed JSON, wrong media types, oversized', async () => {
    const before = s.snapshot();
    // The relay keeps Fastify's text/plain parser: a text body is a string, which no verb input accepts.
    const cases = rawCases(s.relay.config.bodyLimit, VERB_NAMES, { status: 400, code: 'INVALID_INPUT' });
    for (const c of cases) {
      const res = await inject({ method: 'POST', url: relayVerbPath(c.verb), headers: { authorization: `Bearer ${s.orgA.token}`, 'content-type': c.contentType }, payload: c.payload });
      expectRefusal(res, `${c.verb} ${c.label}`, { status: c.status, code: c.code });
    }
    expect(s.snapshot()).toEqual(before);
    await stillServes();
    recordCount('relay.raw', cases.length);
  });

  it('names that are not verbs are 404 NOT_FOUND', async () => {
    const before = s.snapshot();
    for (const name of BAD_VERB_NAMES) {
      const res = await call(s.orgA.token, name, {});
      expectRefusal(res, name, { status: 404, code: 'NOT_FOUND' });
    }
    expect(s.snapshot()).toEqual(before);
    await stillServes();
    recordCount('relay.verbNames', BAD_VERB_NAMES.length);
  });

  it('prototype-named and unknown names on a real run find nothing (no lookup through Object.prototype)', async () => {
    const before = s.snapshot();
    const cases: Array<[string, unknown, number, string]> = [
      ['runs.open', { workspaceId: 'constructor' }, 404, 'WORKSPACE_NOT_FOUND'],
      ['runs.open', { workspaceId: 'toString' }, 404, 'WORKSPACE_NOT_FOUND'],
      ['runs.open', { workspaceId: 'web', baseRef: 'constructor' }, 422, 'BASE_REF_NOT_FOUND'],
      ['runs.open', { workspaceId: 'web', baseRef: 'HEAD~1000' }, 400, 'INVALID_INPUT'],
      ['steps.dispatch', { runId: runA.runId, executor: 'constructor', task: 'x' }, 422, 'EXECUTOR_NOT_ALLOWED'],
      ['steps.dispatch', { runId: runA.runId, executor: 'hasOwnProperty', task: 'x' }, 422, 'EXECUTOR_NOT_ALLOWED'],
      ['steps.dispatch', { runId: runA.runId, executor: 'sim', task: 'x', validations: ['toString'] }, 422, 'VALIDATION_NOT_DEFINED'],
      ['steps.dispatch', { runId: runA.runId, executor: 'sim', task: 'x', validations: ['constructor'] }, 422, 'VALIDATION_NOT_DEFINED'],
      ['steps.dispatch', { runId: runA.runId, executor: 'sim', task: 'changed input', idempotencyKey: 'once' }, 409, 'IDEMPOTENCY_CONFLICT'],
      ['artifacts.get', { runId: runA.runId, digest: FAKE.digest }, 404, 'ARTIFACT_NOT_FOUND'],
      ['artifacts.get', { runId: runA.runId, digest: runA.otherRunDigest }, 404, 'ARTIFACT_NOT_FOUND'],
      ['runs.get', { runId: FAKE.runId }, 404, 'RUN_NOT_FOUND'],
      ['steps.get', { stepId: FAKE.stepId }, 404, 'STEP_NOT_FOUND'],
      ['attempts.get', { attemptId: FAKE.attemptId }, 404, 'ATTEMPT_NOT_FOUND'],
      ['gates.approve', { gateId: FAKE.gateId }, 404, 'GATE_NOT_FOUND'],
      ['runs.list', { instanceId: FAKE.instanceId }, 404, 'INSTANCE_NOT_FOUND'],
    ];
    for (const [verb, body, status, code] of cases) {
      const res = await call(s.orgA.token, verb, body);
      expectRefusal(res, `${verb} ${JSON.stringify(body).slice(0, 80)}`, { status, code });
    }
    expect(s.snapshot()).toEqual(before);
    await stillServes();
    recordCount('relay.lookups', cases.length);
  });

  it('the same idempotency key with a different input is a conflict, also while the first call is in flight', async () => {
    const open = await call(s.orgA.token, 'runs.open', { workspaceId: 'web', title: 'idempotency' });
    const runId = (open.json() as { runId: string }).runId;
    const base = { runId, executor: 'sim', idempotencyKey: 'same-key' };
    const [first, second] = await Promise.all([call(s.orgA.token, 'steps.dispatch', { ...base, task: 'write a.txt\n<<<\none\n>>>' }), call(s.orgA.token, 'steps.dispatch', { ...base, task: 'write a.txt\n<<<\ntwo\n>>>' })]);
    const outcomes = [first, second].map((r) => (r.statusCode === 200 ? 'ok' : (r.json() as { code: string }).code)).sort();
    expect(outcomes).toEqual(['IDEMPOTENCY_CONFLICT', 'ok']);
    const run = await call(s.orgA.token, 'runs.get', { runId });
    expect((run.json() as { steps: unknown[] }).steps).toHaveLength(1);
    recordCount('relay.idempotency', 1);
  });

  it('SQL-looking free text is stored verbatim and every table is still there', async () => {
    const texts = ["'); DROP TABLE runs; --", "x' OR '1'='1", 'Robert"); DELETE FROM audit; --', '%00\\x00 UNION SELECT * FROM tokens'];
    for (const title of texts) {
      const res = await call(s.orgA.token, 'runs.open', { workspaceId: 'web', title });
      expect(res.statusCode, title).toBe(200);
      const run = res.json() as { runId: string; title: string };
      expect(run.title).toBe(title);
      const back = await call(s.orgA.token, 'runs.get', { runId: run.runId });
      expect((back.json() as { title: string }).title).toBe(title);
    }
    // The tables the text names are intact and the audit chains still verify.
    expect(s.daemon.store.db.prepare('SELECT count(*) AS n FROM runs').get()).toMatchObject({ n: expect.any(Number) });
    expect((await s.relayStore.verifyAudit()).ok).toBe(true);
    recordCount('relay.sqlText', texts.length);
  });

  it('an artifact blob swapped for a symlink to a secret is refused, not served', async () => {
    const path = join(s.daemon.home.artifacts, 'sha256', runA.digest.slice(7, 9), runA.digest.slice(7));
    const ok = await call(s.orgA.token, 'artifacts.get', { runId: runA.runId, digest: runA.digest });
    expect(ok.statusCode).toBe(200);
    unlinkSync(path);
    symlinkSync('/etc/passwd', path);
    const res = await call(s.orgA.token, 'artifacts.get', { runId: runA.runId, digest: runA.digest });
    expect(res.statusCode).toBe(507);
    expect(res.json()).toMatchObject({ code: 'STORAGE_ERROR' });
    expect(res.body).not.toContain('root:');
    await stillServes();
    recordCount('relay.artifactSymlink', 1);
  });
});

describe('relay credentials', () => {
  it('forged, malformed, wrong-checksum, expired, revoked and misplaced credentials are refused with their code', async () => {
    const past = Date.now() - 1000;
    const expired = await s.relayStore.createToken({ orgId: s.orgA.orgId, name: 'expired', scopes: ['runs:read'], expiresAt: past });
    const revoked = await s.relayStore.createToken({ orgId: s.orgA.orgId, name: 'revoked', scopes: ['runs:read'] });
    await s.relayStore.revokeToken(revoked.record.id);
    const readOnly = await s.relayStore.createToken({ orgId: s.orgA.orgId, name: 'read-only', scopes: ['runs:read'] });
    const enr = await s.relayStore.createEnrollmentToken(s.orgA.orgId, 60_000);
    const good = s.orgA.token;
    const flipped = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    const before = s.snapshot();
    const cases: Array<[string, Record<string, string>, string, number, string]> = [
      ['missing', {}, '', 401, 'UNAUTHENTICATED'],
      ['empty bearer', { authorization: 'Bearer ' }, '', 401, 'UNAUTHENTICATED'],
      ['basic scheme', { authorization: `Basic ${Buffer.from(`u:${good}`).toString('base64')}` }, '', 401, 'UNAUTHENTICATED'],
      ['garbage', { authorization: 'Bearer hello' }, '', 401, 'TOKEN_MALFORMED'],
      ['wrong checksum', { authorization: `Bearer ${flipped}` }, '', 401, 'TOKEN_MALFORMED'],
      ['truncated', { authorization: `Bearer ${good.slice(0, -3)}` }, '', 401, 'TOKEN_MALFORMED'],
      ['forged (well-formed, unknown)', { authorization: `Bearer ${generateSecret('planner')}` }, '', 401, 'UNAUTHENTICATED'],
      ['expired', { authorization: `Bearer ${expired.secret}` }, '', 401, 'TOKEN_EXPIRED'],
      ['revoked', { authorization: `Bearer ${revoked.secret}` }, '', 401, 'TOKEN_REVOKED'],
      ['enrollment token as bearer', { authorization: `Bearer ${enr.secret}` }, '', 401, 'TOKEN_MALFORMED'],
      ['jwt without an issuer configured', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }, '', 401, 'TOKEN_MALFORMED'],
      ['token in the query string', {}, `?access_token=${good}`, 401, 'UNAUTHENTICATED'],
      ['bidi in token', { authorization: `Bearer ${good.slice(0, 10)}\u202E${good.slice(10)}` }, '', 401, 'TOKEN_MALFORMED'],
      ['insufficient scope', { authorization: `Bearer ${readOnly.secret}` }, '', 403, 'INSUFFICIENT_SCOPE'],
    ];
    for (const [label, headers, query, status, code] of cases) {
      const res = await inject({ method: 'POST', url: `${relayVerbPath('runs.open')}${query}`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify({ workspaceId: 'web' }) });
      expectRefusal(res, label, { status, code });
      if (status === 401) expect(res.headers['www-authenticate'], label).toMatch(/resource_metadata=/);
    }
    expect(s.snapshot()).toEqual(before);
    // Failed authentications are audited by hash; no presented secret is stored.
    const audit = JSON.stringify(s.relayStore.db.prepare('SELECT * FROM audit').all());
    for (const secret of [good, flipped, expired.secret, revoked.secret, enr.secret]) expect(audit).not.toContain(secret);
    await stillServes();
    recordCount('relay.credentials', cases.length);
  });

  it('cross-org: org B sees org A ids, instance and sessions exactly as missing ones', async () => {
    const b = s.orgB.token;
    const before = s.snapshot();
    const cases: Array<[string, unknown, number, string]> = [
      ['runs.get', { runId: runA.runId }, 404, 'RUN_NOT_FOUND'],
      ['runs.close', { runId: runA.runId }, 404, 'RUN_NOT_FOUND'],
      ['runs.abort', { runId: runA.runId }, 404, 'RUN_NOT_FOUND'],
      ['steps.get', { stepId: runA.stepId }, 404, 'STEP_NOT_FOUND'],
      ['steps.retry', { stepId: runA.stepId }, 404, 'STEP_NOT_FOUND'],
      ['steps.dispatch', { runId: runA.runId, executor: 'sim', task: 'x' }, 404, 'RUN_NOT_FOUND'],
      ['events.list', { runId: runA.runId }, 404, 'RUN_NOT_FOUND'],
      ['artifacts.get', { runId: runA.runId, digest: runA.digest }, 404, 'RUN_NOT_FOUND'],
      ['runs.open', { workspaceId: 'web' }, 404, 'WORKSPACE_NOT_FOUND'],
      ['runs.open', { workspaceId: 'web', instanceId: s.instanceId }, 404, 'INSTANCE_NOT_FOUND'],
      ['runs.list', { instanceId: s.instanceId }, 404, 'INSTANCE_NOT_FOUND'],
    ];
    for (const [verb, body, status, code] of cases) {
      const res = await call(b, verb, body);
      expectRefusal(res, `org B ${verb}`, { status, code });
    }
    const admin = await inject({ method: 'POST', url: `/api/v2/admin/instances/${s.instanceId}/disable`, headers: { authorization: `Bearer ${s.orgB.adminToken}` } });
    expectRefusal(admin, 'org B admin disables org A instance', { status: 404, code: 'INSTANCE_NOT_FOUND' });
    const sessions = await inject({ method: 'GET', url: '/api/v2/admin/sessions', headers: { authorization: `Bearer ${s.orgB.adminToken}` } });
    expect(sessions.json()).toEqual({ sessions: [] });
    const list = await call(b, 'instances.list', {});
    expect(list.json()).toEqual({ instances: [] });
    const planner = await inject({ method: 'POST', url: `/api/v2/admin/instances/${s.instanceId}/disable`, headers: { authorization: `Bearer ${s.orgA.token}` } });
    expectRefusal(planner, 'planner token on an admin route', { status: 403, code: 'INSUFFICIENT_SCOPE' });
    const proto = await inject({ method: 'POST', url: `/api/v2/admin/instances/${s.instanceId}/__proto__`, headers: { authorization: `Bearer ${s.orgA.adminToken}` } });
    expectRefusal(proto, 'admin action __proto__', { status: 404, code: 'NOT_FOUND' });
    const ctor = await inject({ method: 'POST', url: `/api/v2/admin/instances/${s.instanceId}/constructor`, headers: { authorization: `Bearer ${s.orgA.adminToken}` } });
    expectRefusal(ctor, 'admin action constructor', { status: 404, code: 'NOT_FOUND' });
    // Org B's audit shows its own refused attempts (with the ids it typed) and none of org A's activity.
    const audit = await inject({ method: 'GET', url: '/api/v2/audit?limit=500', headers: { authorization: `Bearer ${b}` } });
    expect(audit.statusCode).toBe(200);
    const entries = (audit.json() as { entries: Array<{ actor: string; action: string; outcome: string; target: string | null }> }).entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((e) => !e.actor.startsWith(`planner:${s.orgB.orgId}/`)).map((e) => [e.actor, e.action, e.outcome])).toEqual([]);
    // Org B never succeeded on anything it named.
    expect(entries.filter((e) => e.outcome === 'ok' && e.target !== null)).toEqual([]);
    expect(JSON.stringify(entries)).not.toContain(s.orgA.orgId);
    expect(s.snapshot()).toEqual(before);
    expect(s.relay.hub.get(s.instanceId)?.state).toBe('ready');
    await stillServes();
    recordCount('relay.crossOrg', cases.length + 6);
  });

  it('audit and SSE query strings and ids are validated', async () => {
    const before = s.snapshot();
    const auth = { authorization: `Bearer ${s.orgA.token}` };
    const urls: Array<[string, number, string]> = [
      ['/api/v2/audit?after=-1', 400, 'INVALID_INPUT'],
      ['/api/v2/audit?limit=100000', 400, 'INVALID_INPUT'],
      ['/api/v2/audit?__proto__=1', 400, 'INVALID_INPUT'],
      [`/api/v2/runs/..%2F..%2Fetc/events`, 400, 'INVALID_INPUT'],
      [`/api/v2/runs/${runA.runId}/events?after=-5`, 400, 'INVALID_INPUT'],
      [`/api/v2/runs/${runA.runId}'%20OR%201=1/events`, 400, 'INVALID_INPUT'],
      [`/api/v2/runs/${FAKE.runId}/events`, 404, 'RUN_NOT_FOUND'],
    ];
    for (const [url, status, code] of urls) {
      const res = await inject({ method: 'GET', url, headers: auth });
      expectRefusal(res, url, { status, code });
    }
    const sse = await inject({ method: 'GET', url: `/api/v2/runs/${runA.runId}/events`, headers: { authorization: `Bearer ${s.orgB.token}` } });
    expectRefusal(sse, 'org B follows org A run', { status: 404, code: 'RUN_NOT_FOUND' });
    expect(s.snapshot()).toEqual(before);
    recordCount('relay.queries', urls.length + 1);
  });
});

describe('relay enrollment and challenge endpoints', () => {
  it('bad, reused and expired enrollment tokens and bad keys are refused; no instance is created', async () => {
    const used = await s.relayStore.createEnrollmentToken(s.orgA.orgId, 60_000);
    const key = 'A'.repeat(43);
    const { generateKeyPairSync } = await import('node:crypto');
    const x = (generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x;
    const first = await inject({ method: 'POST', url: RELAY_PATHS.enroll, payload: { token: used.secret, publicKey: x, name: 'first' } });
    expect(first.statusCode).toBe(200);
    const expiredStore = await s.relayStore.createEnrollmentToken(s.orgA.orgId, 1);
    await new Promise((r) => setTimeout(r, 5));
    const before = s.snapshot();
    const bodies: Array<[string, unknown, number, string]> = [
      ['reused token (replay)', { token: used.secret, publicKey: x, name: 'again' }, 401, 'ENROLLMENT_TOKEN_INVALID'],
      ['expired token', { token: expiredStore.secret, publicKey: x, name: 'late' }, 401, 'ENROLLMENT_TOKEN_INVALID'],
      ['forged token', { token: generateSecret('enrollment'), publicKey: x, name: 'forged' }, 401, 'ENROLLMENT_TOKEN_INVALID'],
      ['planner token as enrollment token', { token: s.orgA.token, publicKey: x, name: 'pat' }, 401, 'ENROLLMENT_TOKEN_INVALID'],
      ['not a key', { token: (await s.relayStore.createEnrollmentToken(s.orgA.orgId, 60_000)).secret, publicKey: key.replace(/A$/, '!'), name: 'k' }, 400, 'INVALID_INPUT'],
      ['name with control chars', { token: 'slc_enr_x', publicKey: x, name: 'a\u0000b' }, 400, 'INVALID_INPUT'],
      ['name too long', { token: 'slc_enr_x', publicKey: x, name: 'n'.repeat(201) }, 400, 'INVALID_INPUT'],
      ['unknown key', { token: 'slc_enr_x', publicKey: x, name: 'n', orgId: s.orgB.orgId }, 400, 'INVALID_INPUT'],
      ['proto key', JSON.parse(`{"__proto__":{"x":1},"token":"slc_enr_x","publicKey":"${x}","name":"n"}`), 400, 'MALFORMED_JSON'],
      ['array body', [], 400, 'INVALID_INPUT'],
    ];
    for (const [label, body, status, code] of bodies) {
      const res = await inject({ method: 'POST', url: RELAY_PATHS.enroll, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expectRefusal(res, label, { status, code });
    }
    const after = s.snapshot();
    // Creating enrollment tokens for the cases is setup; instances and the rest must not move.
    expect({ ...after.relay, enrollment_tokens: 0 }).toEqual({ ...before.relay, enrollment_tokens: 0 });
    const queries = ['?instanceId=../../x', '?instanceId=__proto__', '', '?instanceId=ins_%E2%80%AE', `?instanceId=${s.instanceId}&extra=1`];
    for (const q of queries) {
      const res = await inject({ method: 'GET', url: `${RELAY_PATHS.connectorChallenge}${q}` });
      expectRefusal(res, `challenge ${q}`, { status: 400, code: 'INVALID_INPUT' });
    }
    await stillServes();
    recordCount('relay.enroll', bodies.length + queries.length);
  });
});

describe('relay DNS rebinding and foreign origins', () => {
  it('a rebinding Host header gets nothing without a token (auth is the control for a public relay)', async () => {
    const before = s.snapshot();
    const hosts = ['evil.example', '127.0.0.1.nip.io', 'localhost.evil.example'];
    for (const host of hosts) {
      const res = await inject({ method: 'POST', url: relayVerbPath('runs.list'), headers: { host, 'content-type': 'application/json' }, payload: '{}' });
      expectRefusal(res, `host ${host}`, { status: 401, code: 'UNAUTHENTICATED' });
    }
    expect(s.snapshot()).toEqual(before);
    recordCount('relay.hosts', hosts.length);
  });

  it('a foreign browser Origin is refused with 403 ORIGIN_NOT_ALLOWED on /api/v2 and /mcp', async () => {
    const before = s.snapshot();
    const origins = ['http://evil.example', 'null', 'http://127.0.0.1:1'];
    // Percent-encoded spellings route to the same handlers, so they must meet the same check.
    const urls = [relayVerbPath('runs.list'), RELAY_PATHS.mcp, '/%61pi/v2/runs.list', '/%6Dcp', '/api/v2/runs%2Elist'];
    let n = 0;
    for (const origin of origins) {
      for (const url of urls) {
        const res = await inject({
          method: 'POST',
          url,
          headers: { origin, authorization: `Bearer ${s.orgA.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          payload: url.includes('cp') ? { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} } : {},
        });
        expectRefusal(res, `${url} origin ${origin}`, { status: 403, code: 'ORIGIN_NOT_ALLOWED' });
        n++;
      }
    }
    // The relay's own origin is fine.
    const own = await inject({ method: 'POST', url: relayVerbPath('runs.list'), headers: { origin: s.relayUrl, authorization: `Bearer ${s.orgA.token}`, 'content-type': 'application/json' }, payload: '{}' });
    expect(own.statusCode).toBe(200);
    expect(s.snapshot()).toEqual(before);
    recordCount('relay.origins', n);
  });
});

// Every verb is covered by the tables above.
it('the tables cover every verb of the table', () => {
  const covered = new Set(fieldCases().map((c) => c.verb));
  for (const v of VERB_NAMES) expect(covered.has(v) || shapeCases([v]).length > 0, v).toBe(true);
});
