import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_ACTOR } from '../src/index.js';
import { recordArtifact } from '../src/engine/artifact-recorder.js';
import { LogPump } from '../src/engine/log-pump.js';
import { guardRemotePayload } from '../src/secrets/remote-guard.js';
import { startTestDaemon, type TestDaemon } from './core-fixtures.js';

// Built at run time: no file of the repository holds a credential.
const KEY = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().trim();
const KEY_BODY = KEY.split('\n')[1]!;
const TOKEN = `gh${'p'}_${'x7Y'.repeat(12)}`;
const SHARED = { 'x-sluice-shared-workspaces': 'web', 'x-sluice-actor': 'planner:org_1/tok_1' };
/** A call in a planner's name without the connector's share header is remote all the same. */
const PLANNER_ONLY = { 'x-sluice-actor': 'planner:org_1/tok_1' };

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

let d: TestDaemon;

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, SLUICE_HOME: d.home.root }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
afterEach(async () => {
  await d?.close();
});

async function attemptOf(): Promise<{ runId: string; stepId: string; attemptId: string }> {
  const run = (await d.verb('runs.open', { workspaceId: 'web' })).body as { runId: string };
  const step = (await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x' })).body as { stepId: string; attempts: { attemptId: string }[] };
  return { runId: run.runId, stepId: step.stepId, attemptId: step.attempts[0]!.attemptId };
}

describe('remote reads of artifacts', () => {
  it.each([
    ['through the connector', SHARED],
    ['in a planner name', PLANNER_ONLY],
  ])('withholds an artifact holding a key from a call %s, and serves it to the local operator', async (_how, headers) => {
    d = await startTestDaemon();
    const ids = await attemptOf();
    const ref = (await recordArtifact(d, ids, 'diff', 'diff.patch', 'text/x-diff', { data: `+${KEY.replaceAll('\n', '\n+')}\n` }))!;
    const remote = await d.verb('artifacts.get', { runId: ids.runId, digest: ref.digest }, headers);
    expect(remote.status).toBe(403);
    expect(remote.body.code).toBe('ARTIFACT_WITHHELD');
    expect(remote.body.message).toContain(`sluice artifact release ${ref.artifactId}`);
    expect(remote.text).not.toContain(KEY_BODY);
    const local = await d.verb('artifacts.get', { runId: ids.runId, digest: ref.digest });
    expect(local.status).toBe(200);
    expect(local.body.content).toContain(KEY_BODY);
    const refused = d.store.db.prepare("SELECT outcome FROM audit WHERE action = 'verb.artifacts.get' ORDER BY seq DESC LIMIT 1").get() as { outcome: string };
    expect(refused.outcome).toBe('ARTIFACT_WITHHELD');
  });

  it('scans an artifact recorded before scanning existed when it is first read remotely', async () => {
    d = await startTestDaemon();
    const ids = await attemptOf();
    const blob = await d.artifacts.putBuffer(`token ${TOKEN}\n`);
    const ref = d.store.addArtifactRef({ digest: blob.digest, size: blob.size, mediaType: 'text/plain', kind: 'stdout', name: 'stdout', ...ids }, ENGINE_ACTOR);
    const remote = await d.verb('artifacts.get', { runId: ids.runId, digest: ref.digest }, SHARED);
    expect(remote.body.code).toBe('ARTIFACT_WITHHELD');
    const marks = d.store.listEvents({ runId: ids.runId, limit: 100 }).filter((e) => e.type === 'attempt.secret_detected');
    expect(marks.map((e) => e.data)).toEqual([{ subject: 'artifact', subjectId: ref.artifactId, rules: ['github-token'], name: 'stdout' }]);
  });

  it('serves a clean artifact to remote callers', async () => {
    d = await startTestDaemon();
    const ids = await attemptOf();
    const ref = (await recordArtifact(d, ids, 'stdout', 'stdout', 'text/plain', { data: 'all tests pass\n' }))!;
    const remote = await d.verb('artifacts.get', { runId: ids.runId, digest: ref.digest }, SHARED);
    expect(remote.body.content).toBe('all tests pass\n');
  });
});

describe('sluice artifact release', () => {
  it('releases a withheld artifact once, with an audit row; says so for a clean one; refuses unknown ids', async () => {
    d = await startTestDaemon();
    const ids = await attemptOf();
    const held = (await recordArtifact(d, ids, 'stdout', 'stdout', 'text/plain', { data: `${TOKEN}\n` }))!;
    const clean = (await recordArtifact(d, ids, 'stderr', 'stderr', 'text/plain', { data: 'ok\n' }))!;

    const first = sluice('artifact', 'release', held.artifactId, '--reason', 'revoked already', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ released: ['github-token'], alreadyReleased: false });
    expect((await d.verb('artifacts.get', { runId: ids.runId, digest: held.digest }, SHARED)).body.content).toBe(`${TOKEN}\n`);
    const audit = d.store.db.prepare("SELECT actor, target, details FROM audit WHERE action = 'artifact.release'").all() as { actor: string; target: string; details: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^local:/);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ rules: ['github-token'], reason: 'revoked already', attemptId: ids.attemptId });
    expect(audit[0]!.details).not.toContain(TOKEN);

    expect(sluice('artifact', 'release', held.artifactId).stdout).toContain('already released');
    expect(sluice('artifact', 'release', clean.artifactId).stdout).toContain('holds nothing withheld');
    expect(sluice('artifact', 'show', clean.artifactId).stdout).toContain('secrets: none found');
    const unknown = sluice('artifact', 'release', 'art_01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('ARTIFACT_NOT_FOUND');
    expect(d.store.db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'artifact.release'").get()).toEqual({ n: 1 });
  });
});

describe('remote reads of events and summaries', () => {
  it('withholds a key block printed over two log batches, and keeps the ledger as it was', async () => {
    d = await startTestDaemon();
    const ids = await attemptOf();
    const pump = new LogPump(d.store, ids, ENGINE_ACTOR);
    const lines = KEY.split('\n');
    pump.push('stdout', Buffer.from(`cat ~/.ssh/id\n${lines.slice(0, 2).join('\n')}\n`));
    pump.flush();
    pump.push('stdout', Buffer.from(`${lines.slice(2).join('\n')}\ndone, ${TOKEN}\n`));
    pump.flush(true);

    const local = d.store.listEvents({ runId: ids.runId, limit: 100 }).filter((e) => e.type === 'attempt.log');
    expect(JSON.stringify(local)).toContain(KEY_BODY);
    expect(local[1]!.data['continuesKeyBlock']).toBe(true);

    const page = (await d.verb('events.list', { runId: ids.runId }, SHARED)).body as { events: { type: string; data: { lines?: { text: string }[]; subject?: string } }[] };
    const remoteLines = page.events.filter((e) => e.type === 'attempt.log').flatMap((e) => e.data.lines!.map((l) => l.text));
    expect(remoteLines).toEqual(['cat ~/.ssh/id', '[withheld: private key]', '[withheld: private key]', '[withheld: private key]', 'done, [withheld: GitHub token]']);
    expect(page.events.filter((e) => e.type === 'attempt.secret_detected').map((e) => e.data.subject)).toEqual(['event', 'event']);
  });

  it('withholds secrets in summaries of every answer that carries attempts, for remote callers only', async () => {
    d = await startTestDaemon();
    const ids = await attemptOf();
    d.store.transitionAttempt(ids.attemptId, 'preparing', {}, ENGINE_ACTOR);
    d.store.transitionAttempt(ids.attemptId, 'failed', { failureCode: 'EXECUTOR_FAILED', summary: `used ${TOKEN}` }, ENGINE_ACTOR);
    for (const [verb, input] of [
      ['attempts.get', { attemptId: ids.attemptId }],
      ['steps.get', { stepId: ids.stepId }],
      ['runs.get', { runId: ids.runId }],
      ['steps.wait', { stepId: ids.stepId, timeoutMs: 0 }],
    ] as const) {
      const remote = await d.verb(verb, input, SHARED);
      expect(remote.status, verb).toBe(200);
      expect(remote.text, verb).not.toContain(TOKEN);
      expect(remote.text, verb).toContain('used [withheld: GitHub token]');
      expect((await d.verb(verb, input)).text, verb).toContain(TOKEN);
    }
  });
});

describe('guardRemotePayload', () => {
  it('redacts every string of any shape and leaves other values alone', () => {
    const payload = { a: [1, null, true, `x ${TOKEN}`], b: { c: KEY }, d: 'clean' };
    expect(guardRemotePayload(payload)).toEqual({ a: [1, null, true, 'x [withheld: GitHub token]'], b: { c: '[withheld: private key]' }, d: 'clean' });
  });
});
