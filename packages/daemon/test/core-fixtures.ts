import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { daemonVerbPath } from '@sluice/shared-protocol';
import { git, makeRepo, rowCounts, tablesOf } from '@sluice/test-kit';
import { ArtifactStore, buildApp, ensureHome, ensureToken, openDatabase, parseConfig, Store, type AppDeps, type DaemonConfigInput, type HomePaths } from '../src/index.js';

/** A temp dir removed by `cleanup()`. */
export function tempDir(prefix = 'sluice-core-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** What a daemon killed with -9 leaves at `path`: a socket file nothing listens on. */
export function leaveDeadSocket(path: string): void {
  spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
}

/** A parsed JSON response body; tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

/** A listening daemon app over a real SQLite ledger and a real repo, with helpers to call it. */
export interface TestDaemon {
  app: FastifyInstance;
  store: Store;
  artifacts: ArtifactStore;
  home: HomePaths;
  repo: { path: string; head: string };
  token: string;
  url: string;
  port: number;
  /** POST a verb; returns status and parsed body. */
  verb(name: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Body; text: string }>;
  /** Any request with the token unless overridden. */
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<{ status: number; body: Body; text: string }>;
  close(): Promise<void>;
}

/** Start a daemon app on 127.0.0.1:0 with workspace `web` (executor `sim`, validation `test`). */
export async function startTestDaemon(opts: { workspace?: Partial<NonNullable<DaemonConfigInput['workspaces']>[string]>; engine?: AppDeps['engine']; consoleDir?: string | null } = {}): Promise<TestDaemon> {
  const root = tempDir();
  const home = ensureHome(join(root, 'home'));
  const repo = makeRepo(join(root, 'repo'));
  const raw: DaemonConfigInput = {
    listen: { host: '127.0.0.1', port: 0 },
    workspaces: {
      web: {
        path: repo.path,
        name: 'web',
        executors: { sim: { adapter: 'simulation' } },
        validations: { test: { argv: ['node', '-e', '0'], timeout: '30s', runsWorktreeCode: false } },
        ...opts.workspace,
      },
    },
  };
  writeFileSync(home.config, JSON.stringify(raw));
  const config = parseConfig(raw);
  const token = ensureToken(home);
  const store = new Store(openDatabase(home.db));
  const artifacts = new ArtifactStore(home.artifacts);
  const app = buildApp({ store, artifacts, token, configPath: home.config, ...(opts.engine ? { engine: opts.engine } : {}), ...(opts.consoleDir !== undefined ? { consoleDir: opts.consoleDir } : {}) }, config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const request: TestDaemon['request'] = async (method, path, o = {}) => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...o.headers }, ...(o.body !== undefined ? { body: o.body } : {}) });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, body, text };
  };
  return {
    app,
    store,
    artifacts,
    home,
    repo,
    token,
    url,
    port,
    verb: (name, body, headers = {}) => request('POST', daemonVerbPath(name), { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
    request,
    close: async () => {
      await app.close();
      store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Row counts of the ledger, to prove a refused request wrote nothing (the audit table grows: refusals are audited). */
export function ledgerCounts(store: Store): Record<string, number> {
  return rowCounts(store.db, tablesOf(store.db, ['audit']));
}

/**
 * What the engine would leave behind: `n` attempts of a new approval step, each with a commit on its attempt
 * branch, waiting at one approval gate.
 */
export async function awaitingApprovalGate<R extends { runId: string; headCommit: string }>(d: TestDaemon, run: R, n: number) {
  const step = (await d.verb('steps.dispatch', { runId: run.runId, executor: 'sim', task: 'x', attempts: n, approval: true })).body;
  const commits: string[] = [];
  for (const [i, a] of step.attempts.entries()) {
    const tree = git(d.repo.path, 'rev-parse', `${run.headCommit}^{tree}`);
    const commit = git(d.repo.path, 'commit-tree', tree, '-p', run.headCommit, '-m', `attempt ${i}`);
    git(d.repo.path, 'update-ref', `refs/heads/${a.branch}`, commit);
    commits.push(commit);
    for (const s of ['preparing', 'running', 'validating'] as const) d.store.transitionAttempt(a.attemptId, s, {}, 'system:engine');
    d.store.transitionAttempt(a.attemptId, 'awaiting_approval', { commit }, 'system:engine');
  }
  d.store.transitionStep(step.stepId, 'running', {}, 'system:engine');
  d.store.transitionStep(step.stepId, 'awaiting_approval', {}, 'system:engine');
  const attempts = step.attempts.map((a: { attemptId: string }) => a.attemptId) as string[];
  const gate = d.store.createGate({ runId: run.runId, stepId: step.stepId, attemptId: null, kind: 'approval', rule: 'choose one passing attempt', candidates: attempts }, 'system:engine');
  return { run, step, gate, commits, attempts };
}
