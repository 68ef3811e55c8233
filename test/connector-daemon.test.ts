import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '@sluice/connector';
import { createLogger, startDaemon } from '@sluice/daemon';
import type { RunningDaemon } from '@sluice/daemon';
import { FakeRelay, makeRepo } from '@sluice/test-kit';
import type { FakeSession } from '@sluice/test-kit';

const ACTOR = 'planner:org_e2e/tok_alice';

/** The connector (in-process CLI) between a FakeRelay and a REAL daemon on a real SQLite ledger. */
describe('connector → real daemon', () => {
  let root: string;
  let daemon: RunningDaemon;
  let relay: FakeRelay;
  let stop: AbortController;
  let running: Promise<number>;
  let session: FakeSession;
  let env: NodeJS.ProcessEnv;

  const cli = async (args: string[], signal = new AbortController().signal) => {
    let out = '';
    let err = '';
    const code = await runCli(args, { env, out: (s) => (out += s), err: (s) => (err += s), signal });
    return { code, out, err };
  };
  const auditRows = () =>
    daemon.store.db.prepare("SELECT actor, action, target, outcome FROM audit WHERE action LIKE 'verb.%' OR action = 'auth.refused' ORDER BY seq").all() as Array<{
      actor: string;
      action: string;
      target: string | null;
      outcome: string;
    }>;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-connector-daemon-'));
    const home = join(root, 'home');
    mkdirSync(home, { mode: 0o700 });
    for (const ws of ['web-app', 'private']) makeRepo(join(root, ws));
    const workspace = (name: string) => ({
      path: join(root, name),
      name,
      executors: { sim: { adapter: 'simulation' } },
      validations: { test: { argv: ['node', '-e', '0'], timeout: '30s', runsWorktreeCode: false } },
    });
    writeFileSync(join(home, 'config.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, workspaces: { 'web-app': workspace('web-app'), private: workspace('private') } }));
    daemon = await startDaemon({ home, runtimeDir: join(root, 'run'), port: 0, logger: createLogger({ level: 'silent' }) });
    relay = await FakeRelay.start();
    env = { SLUICE_HOME: home, HOME: root, SLUICE_LOG_LEVEL: 'silent', PATH: process.env['PATH'] };
    const enrolled = await cli(['enroll', '--relay', relay.url, '--token', relay.addEnrollToken(), '--name', 'e2e-box']);
    expect(enrolled.code, enrolled.err).toBe(0);
    const shared = await cli(['share', 'web-app']);
    expect(shared.code, shared.err).toBe(0);
    stop = new AbortController();
    running = cli(['run'], stop.signal).then((r) => r.code);
    session = await relay.waitForSession(1);
  });

  afterEach(async () => {
    stop.abort();
    await running;
    await relay.close();
    await daemon.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('advertises only the shared workspace, with the executor and validation names from the daemon config', () => {
    expect(session.hellos[0]!.workspaces).toEqual([
      expect.objectContaining({ workspaceId: 'web-app', executors: ['sim'], validations: ['test'] }),
    ]);
  });

  it('refused requests never reach the daemon; accepted ones are recorded with the planner as actor', async () => {
    const refused = await Promise.all([
      session.request('shell.exec', { cmd: 'rm -rf /' }, { actor: ACTOR }),
      session.request('instances.list', {}, { actor: ACTOR }),
      session.request('runs.open', { workspaceId: 'private' }, { actor: ACTOR }),
      session.request('runs.open', { workspaceId: 'web-app', path: '/etc' }, { actor: ACTOR }),
      session.request('runs.get', { runId: '../../etc/passwd' }, { actor: ACTOR }),
    ]);
    expect(refused.map((r) => r.error?.code)).toEqual(['UNKNOWN_VERB', 'UNKNOWN_VERB', 'WORKSPACE_NOT_FOUND', 'INVALID_INPUT', 'INVALID_INPUT']);
    // Nothing arrived: no verb audit row, no refused-auth row, no run.
    expect(auditRows()).toEqual([]);
    expect(daemon.store.db.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: 0 });

    const opened = await session.request('runs.open', { workspaceId: 'web-app', title: 'from the relay' }, { actor: ACTOR });
    expect(opened.ok, JSON.stringify(opened.error)).toBe(true);
    const run = opened.output as { runId: string; createdBy: string; workspaceId: string };
    expect(run).toMatchObject({ workspaceId: 'web-app', createdBy: ACTOR });
    expect(daemon.store.db.prepare('SELECT workspace_id, created_by FROM runs').all()).toEqual([{ workspace_id: 'web-app', created_by: ACTOR }]);
    expect(auditRows()).toEqual([{ actor: ACTOR, action: 'verb.runs.open', target: expect.any(String), outcome: 'ok' }]);
    const transitions = daemon.store.db.prepare('SELECT DISTINCT actor FROM transitions WHERE run_id = ?').all(run.runId);
    expect(transitions).toEqual([{ actor: ACTOR }]);
  });

  it('the daemon re-checks the share list for ids: a run of an unshared workspace answers as missing', async () => {
    // The operator opens a run locally in the unshared workspace.
    const local = await fetch(`${daemon.url}/api/v1/verbs/runs.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readFileSync(daemon.home.token, 'utf8').trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workspaceId: 'private', title: 'local only' }),
    });
    expect(local.status).toBe(200);
    const { runId } = (await local.json()) as { runId: string };
    // runs.get / runs.abort carry no workspace id, so the connector forwards them; the daemon answers exactly as for a
    // missing run, and (for the write) records who tried.
    const res = await session.request('runs.get', { runId }, { actor: ACTOR });
    expect(res.error?.code).toBe('RUN_NOT_FOUND');
    const abort = await session.request('runs.abort', { runId, reason: 'try' }, { actor: ACTOR });
    expect(abort.error?.code).toBe('RUN_NOT_FOUND');
    expect(auditRows()).toEqual([
      expect.objectContaining({ action: 'verb.runs.open', outcome: 'ok' }),
      expect.objectContaining({ actor: ACTOR, action: 'verb.runs.abort', outcome: 'RUN_NOT_FOUND' }),
    ]);
    expect(daemon.store.db.prepare('SELECT state FROM runs WHERE run_id = ?').get(runId)).toEqual({ state: 'open' });
  });

  it('a share is tied to the registration: a workspace removed and registered again (another repository) is not shared', async () => {
    const operator = (method: string, path: string, body?: unknown) =>
      fetch(`${daemon.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${readFileSync(daemon.home.token, 'utf8').trim()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await session.request('runs.open', { workspaceId: 'web-app' }, { actor: ACTOR })).ok).toBe(true);
    expect((await operator('DELETE', '/api/v1/workspaces/web-app')).status).toBe(200);
    makeRepo(join(root, 'impostor'));
    expect((await operator('POST', '/api/v1/workspaces', { path: join(root, 'impostor'), id: 'web-app' })).status).toBe(201);
    const replaced = await session.request('runs.open', { workspaceId: 'web-app' }, { actor: ACTOR });
    expect(replaced.error?.code).toBe('WORKSPACE_NOT_FOUND');
    const shareRows = () => daemon.store.db.prepare("SELECT actor, details FROM audit WHERE action = 'connector.shares' ORDER BY seq").all() as { actor: string; details: string }[];
    expect(JSON.parse(shareRows().at(-1)!.details)).toMatchObject({ shared: [], stale: ['web-app'] });
    // Sharing again ties the share to the new registration.
    const again = await cli(['share', 'web-app']);
    expect(again.code, again.err).toBe(0);
    const config = JSON.parse(readFileSync(join(daemon.home.root, 'connector.json'), 'utf8')) as { shares: string[] };
    expect(config.shares).toEqual([expect.stringMatching(/^web-app@reg_[A-Za-z0-9_-]{22}$/)]);
    const header = { 'x-sluice-shared-workspaces': config.shares[0]!, 'x-sluice-actor': ACTOR };
    const list = await (await fetch(`${daemon.url}/api/v1/workspaces`, { headers: { authorization: `Bearer ${readFileSync(daemon.home.token, 'utf8').trim()}`, ...header } })).json();
    expect(list).toMatchObject({ workspaces: [{ workspaceId: 'web-app' }] });
    expect(JSON.parse(shareRows().at(-1)!.details)).toMatchObject({ shared: ['web-app'], stale: [] });
    expect(shareRows().every((r) => r.actor === 'system:connector')).toBe(true);
  });
});
