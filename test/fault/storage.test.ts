// A full disk and a read-only home: clear errors (STORAGE_ERROR or a CLI message with a code), never a corrupt
// database. As root the home lives on a tiny tmpfs (filled up, or remounted read-only); otherwise the read-only
// case falls back to chmod 500 and the full-disk case is skipped (it needs a mount).
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore, buildApp, ensureHome, ensureToken, openDatabase, parseConfig, Store, verifyAuditChain } from '@sluice/daemon';
import { buildRelay, SqliteRelayStore } from '@sluice/relay';
import { daemonVerbPath, relayVerbPath } from '@sluice/shared-protocol';
import { BINS, DaemonNode, makeBuggyRepo, runNode, waitUntil } from '../helpers/index.mjs';
import { makeRepo } from '@sluice/test-kit';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
});

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tmpfs of `size` mounted at a fresh dir (root only). */
function tinyTmpfs(size: string): string {
  const dir = tmp('sluice-fault-fs-');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=700`, 'tmpfs', mnt]);
  cleanups.push(() => execFileSync('umount', ['-l', mnt]));
  return mnt;
}

/** Fill a filesystem until ENOSPC; returns a function that frees the space again. */
function fill(dir: string, name = 'filler'): () => void {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  // Fill the last few bytes too.
  try {
    for (;;) writeSync(fd, Buffer.alloc(512, 1));
  } catch {
    // full
  }
  closeSync(fd);
  return () => unlinkSync(path);
}

async function daemonOn(homeDir: string, repoRoot: string) {
  const home = ensureHome(homeDir);
  const repo = makeRepo(join(repoRoot, 'repo')).path;
  const raw = { listen: { host: '127.0.0.1', port: 0 }, workspaces: { web: { path: repo, name: 'web', executors: { sim: { adapter: 'simulation' as const } }, validations: {} } } };
  writeFileSync(home.config, JSON.stringify(raw), { mode: 0o600 });
  const token = ensureToken(home);
  const store = new Store(openDatabase(home.db));
  const artifacts = new ArtifactStore(home.artifacts);
  const app = buildApp({ store, artifacts, token, configPath: home.config }, parseConfig(raw));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  cleanups.push(() => {
    void app.close();
    store.close();
  });
  const call = (verb: string, body: unknown) =>
    app.inject({ method: 'POST', url: daemonVerbPath(verb), headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, payload: body as Record<string, unknown> });
  return { home, store, artifacts, app, call };
}

describe('full disk', () => {
  it.skipIf(!IS_ROOT)('writes fail with 507 STORAGE_ERROR, the ledger stays consistent and recovers when space returns', async () => {
    const mnt = tinyTmpfs('3m');
    const d = await daemonOn(join(mnt, 'home'), tmp('sluice-fault-repo-'));
    const opened = await d.call('runs.open', { workspaceId: 'web', title: 'before the disk filled' });
    expect(opened.statusCode).toBe(200);
    const free = fill(mnt);
    // SQLite may absorb a few writes in pages it already has; keep writing until the disk says no.
    const statuses: Array<{ status: number; code: string | undefined }> = [];
    for (let i = 0; i < 400; i++) {
      const res = await d.call('runs.open', { workspaceId: 'web', title: `run ${i} ${'t'.repeat(150)}` });
      statuses.push({ status: res.statusCode, code: (res.json() as { code?: string }).code });
      if (res.statusCode !== 200) break;
    }
    const failure = statuses.at(-1)!;
    expect(failure).toEqual({ status: 507, code: 'STORAGE_ERROR' });
    // An artifact write on the full disk is refused the same way, and leaves no partial blob behind. (SQLite may
    // have handed back pages when its write failed: fill again first.)
    const free2 = fill(mnt, 'filler-2');
    await expect(d.artifacts.putBuffer(Buffer.alloc(256 * 1024, 7))).rejects.toMatchObject({ code: expect.stringMatching(/ENOSPC|STORAGE_ERROR/) });
    await expect(d.artifacts.putStream(Readable.from([Buffer.alloc(256 * 1024, 8)]))).rejects.toMatchObject({ code: expect.stringMatching(/ENOSPC|STORAGE_ERROR/) });
    expect(readdirSync(join(d.home.artifacts, 'tmp')), 'no partial temp blob is left').toEqual([]);
    expect(readdirSync(join(d.home.artifacts, 'sha256')).length, 'no partial blob').toBe(0);
    free();
    free2();
    // Space is back: the daemon writes again, and the database is intact.
    const after = await d.call('runs.open', { workspaceId: 'web', title: 'after' });
    expect(after.statusCode).toBe(200);
    expect(d.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(verifyAuditChain(d.store.db).ok).toBe(true);
    const runs = (d.store.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
    expect(runs).toBe(statuses.length + 1);
  }, 60_000);
});

describe('full disk under a running daemon process', () => {
  it.skipIf(!IS_ROOT)('the disk filling mid-attempt does not crash the daemon; once there is room the attempt ends, and the ledger is intact', async () => {
    const mnt = tinyTmpfs('16m');
    const work = tmp('sluice-fault-work-');
    const repo = await makeBuggyRepo(join(work, 'repo'));
    const daemon = new DaemonNode(join(mnt, 'home'));
    cleanups.push(() => void daemon.crash());
    await daemon.init();
    await daemon.addWorkspace(repo.path, 'web', { approval: { policy: 'none', remote: true } });
    await daemon.start();
    const run = await daemon.verb('runs.open', { workspaceId: 'web' });
    const big = 'x'.repeat(60_000);
    const step = await daemon.verb('steps.dispatch', { runId: run.runId, executor: 'simulation', task: `sleep 1500\nwrite big.txt\n<<<\n${big}\n>>>`, validations: ['test'] });
    await waitUntil(async () => (await daemon.verb('steps.get', { stepId: step.stepId })).attempts[0]?.state === 'running', { timeoutMs: 20_000, what: 'the attempt to run' });
    const free = fill(mnt);
    // The attempt writes its output, commits and records artifacts on a full disk.
    await sleep(3000);
    expect(daemon.proc?.running, `the daemon survived the full disk: ${daemon.proc?.output.slice(-2000)}`).toBe(true);
    const read = await daemon.verb('steps.get', { stepId: step.stepId });
    expect(read.stepId).toBe(step.stepId);
    free();
    // Space is back: the attempt must not stay live until the next restart.
    const isLive = (state: string) => ['queued', 'preparing', 'running', 'validating'].includes(state);
    await waitUntil(async () => (await daemon.verb('steps.get', { stepId: step.stepId })).attempts.every((a) => !isLive(a.state)), {
      timeoutMs: 20_000,
      what: 'the attempt to leave its live state once the disk has room again',
    });
    expect(daemon.proc?.running).toBe(true);
    await daemon.stop();
    await daemon.start();
    const after = await waitUntil(
      async () => {
        const s = await daemon.verb('steps.get', { stepId: step.stepId });
        return s.attempts.every((a) => !isLive(a.state)) ? s : undefined;
      },
      { timeoutMs: 20_000, what: 'no live attempt after the restart' },
    );
    expect(['failed', 'succeeded', 'cancelled']).toContain(after.state);
    const audit = await daemon.cli(['audit', 'verify', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    // The daemon writes again now that there is room.
    expect((await daemon.verb('runs.open', { workspaceId: 'web' })).state).toBe('open');
  }, 90_000);
});

describe('full disk under the relay', () => {
  it.skipIf(!IS_ROOT)('relay requests fail with 507 STORAGE_ERROR, not 500, and the store is intact afterwards', async () => {
    const mnt = tinyTmpfs('3m');
    const store = new SqliteRelayStore(join(mnt, 'relay.db'));
    const org = await store.createOrg('full');
    const { secret } = await store.createToken({ orgId: org.id, name: 'p', scopes: ['runs:read'] });
    const relay = await buildRelay({ store, logger: pino({ level: 'silent' }) }, { rateLimit: { max: 100_000, timeWindowMs: 60_000 } });
    cleanups.push(() => void store.close().catch(() => undefined));
    cleanups.push(() => void relay.close());
    const free = fill(mnt);
    let last = { status: 200, code: undefined as string | undefined };
    for (let i = 0; i < 400 && last.status === 200; i++) {
      const res = await relay.app.inject({ method: 'POST', url: relayVerbPath('instances.list'), headers: { authorization: `Bearer ${secret}` }, payload: {} });
      last = { status: res.statusCode, code: (res.json() as { code?: string }).code };
    }
    expect(last).toEqual({ status: 507, code: 'STORAGE_ERROR' });
    free();
    const ok = await relay.app.inject({ method: 'POST', url: relayVerbPath('instances.list'), headers: { authorization: `Bearer ${secret}` }, payload: {} });
    expect(ok.statusCode).toBe(200);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((await store.verifyAudit()).ok).toBe(true);
  }, 60_000);
});

describe('read-only home', () => {
  function readOnly(dir: string): void {
    if (IS_ROOT) {
      execFileSync('mount', ['-o', 'remount,ro', dir]);
    } else {
      chmodSync(dir, 0o500);
      cleanups.push(() => chmodSync(dir, 0o700));
    }
  }

  it('`sluice init`, `sluice daemon start`, `sluice-relay org create` and `sluice-relay start` on a read-only home exit non-zero with a clear message', async () => {
    // The home does not exist yet and its parent is read-only (a read-only mount as root; mode 500 otherwise,
    // since an owner may chmod an existing home back).
    const mnt = IS_ROOT ? tinyTmpfs('8m') : tmp('sluice-fault-ro-');
    const home = join(mnt, 'home');
    readOnly(mnt);
    const env: Record<string, string | undefined> = { ...process.env, SLUICE_HOME: home };
    for (const args of [['init'], ['daemon', 'start', '--port', '0']]) {
      const r = await runNode(BINS.sluice, args, { env, timeoutMs: 20_000 });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.code, args.join(' ')).not.toBeNull();
      // One line naming the problem, no stack trace.
      expect(r.stderr, args.join(' ')).toMatch(/^sluice: STORAGE_ERROR: .*(read-only file system|permission denied)/im);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    const relayEnv: Record<string, string | undefined> = { ...process.env, SLUICE_RELAY_HOME: join(mnt, 'relay-home') };
    for (const args of [['org', 'create', 'acme'], ['start', '--port', '0']]) {
      const r = await runNode(BINS.relay, args, { env: relayEnv, timeoutMs: 20_000 });
      expect(r.code, `sluice-relay ${args.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, `sluice-relay ${args.join(' ')}`).toMatch(/STORAGE_ERROR: .*(read-only file system|permission denied)/i);
      expect(r.stderr, `sluice-relay ${args.join(' ')}`).not.toMatch(/\n\s+at /);
    }
  });
});
