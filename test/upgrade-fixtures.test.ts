// The ledger and relay database written by the previous release open under this build: they migrate, their audit
// chains verify, their contents match the manifest written with them, and the processes serve them. Everything goes
// through the CLIs and the HTTP APIs so the test outlives refactors of the stores.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINS, DaemonNode, HttpPlanner, RelayNode, REPO_ROOT, git, runNode, waitUntil } from './helpers/index.mjs';

const RELEASE = '0.1.0';
const FIXTURES = join(REPO_ROOT, 'test/fixtures/upgrade', RELEASE);

interface RunFacts {
  runId: string;
  state: string;
  title: string;
  steps: { stepId: string; seq: number; state: string; acceptedAttemptId: string | null; attempts: { attemptId: string; state: string; failureCode: string | null; commit: string | null }[] }[];
}
type DaemonCount = 'runs' | 'steps' | 'attempts' | 'artifactRefs' | 'artifactBlobs' | 'events' | 'gates' | 'gateEvaluations' | 'validationResults' | 'auditRows';
type RelayCount = 'orgs' | 'tokens' | 'revokedTokens' | 'enrollmentTokens' | 'usedEnrollmentTokens' | 'instances' | 'idOwners' | 'dispatchKeys' | 'auditRows';
type NotableId = 'completedRun' | 'acceptedStep' | 'acceptedAttempt' | 'activeRun' | 'pendingStep' | 'pendingGate' | 'org' | 'otherOrg' | 'instance' | 'plannerToken' | 'readerToken' | 'revokedToken';
interface Manifest {
  madeBy: { release: string; commit: string };
  workspace: { id: string; bundle: string; pathPlaceholder: string; refs: Record<string, string> };
  ids: Record<NotableId, string>;
  daemon: { db: string; artifacts: string; config: string; userVersion: number; counts: Record<DaemonCount, number>; runs: RunFacts[]; blobs: { digest: string; size: number }[]; artifactRefs: { kind: string; digest: string; size: number; runId: string; attemptId: string | null }[] };
  relay: { db: string; userVersion: number; counts: Record<RelayCount, number> };
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

/** `PRAGMA user_version` read from the file header (offset 60), so the committed fixture is never opened in place. */
function headerUserVersion(file: string): number {
  return readFileSync(file).readUInt32BE(60);
}

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

function cliEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, SLUICE_HOME: undefined, SLUICE_RELAY_HOME: undefined, NO_COLOR: '1', ...extra };
}

async function cliJson(bin: string, args: string[], env: Record<string, string | undefined>): Promise<unknown> {
  const res = await runNode(bin, args, { env });
  expect(res.code, `${args.join(' ')}: ${res.stderr}${res.stdout}`).toBe(0);
  return JSON.parse(res.stdout);
}

/** The schema version this build gives a database it creates from nothing. */
async function freshVersion(dir: string, bin: string, args: string[], env: Record<string, string | undefined>, file: string): Promise<number> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await cliJson(bin, args, env);
  return userVersion(file);
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * A copy of a migrated database stamped one schema version past this build, as the next release would leave it: every
 * program must refuse it with the upgrade message and leave the file as it was.
 */
function fromTheFuture(migrated: string, to: string): { file: string; bytes: Buffer } {
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  const db = new Database(migrated, { readonly: true, fileMustExist: true });
  try {
    db.exec(`VACUUM INTO '${to.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
  const next = new Database(to);
  try {
    next.pragma(`user_version = ${userVersion(migrated) + 1}`);
    next.pragma('journal_mode = DELETE');
  } finally {
    next.close();
  }
  return { file: to, bytes: readFileSync(to) };
}

async function expectUpgradeRefusal(bin: string, args: string[], env: Record<string, string | undefined>, future: { file: string; bytes: Buffer }, program: string): Promise<void> {
  const res = await runNode(bin, args, { env });
  expect(res.code, res.stdout).not.toBe(0);
  expect(res.stderr).toMatch(new RegExp(`STORE_TOO_NEW: .*schema version \\d+, newer than this build understands \\(\\d+\\); upgrade ${program}`));
  expect(readFileSync(future.file).equals(future.bytes)).toBe(true);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe(`a daemon home written by ${RELEASE}`, () => {
  let home: string;
  let env: Record<string, string | undefined>;
  let repo: string;

  beforeAll(async () => {
    home = join(dir, 'daemon-home');
    mkdirSync(home, { mode: 0o700 });
    cpSync(join(FIXTURES, manifest.daemon.db), join(home, 'state.db'));
    cpSync(join(FIXTURES, manifest.daemon.artifacts), join(home, 'artifacts'), { recursive: true });
    repo = join(dir, manifest.workspace.id);
    mkdirSync(repo);
    await git(repo, ['init', '-q', '-b', 'main']);
    await git(repo, ['fetch', '-q', '--update-head-ok', join(FIXTURES, manifest.workspace.bundle), 'refs/*:refs/*']);
    await git(repo, ['checkout', '-q', 'main']);
    const config = readFileSync(join(FIXTURES, manifest.daemon.config), 'utf8').replaceAll(manifest.workspace.pathPlaceholder, repo);
    writeFileSync(join(home, 'config.json'), config, { mode: 0o600 });
    env = cliEnv({ SLUICE_HOME: home });
  });

  it('is the release it says it is, and the bundle holds the refs the ledger names', async () => {
    expect(manifest.madeBy.release).toBe(RELEASE);
    expect(headerUserVersion(join(FIXTURES, manifest.daemon.db))).toBe(manifest.daemon.userVersion);
    expect(readdirSync(join(FIXTURES, 'daemon')).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
    for (const [ref, sha] of Object.entries(manifest.workspace.refs)) expect(await git(repo, ['rev-parse', ref])).toBe(sha);
  });

  it('migrates to the schema of this build and its audit chain verifies', async () => {
    const verify = (await cliJson(BINS.sluice, ['audit', 'verify', '--json'], env)) as { ok: boolean; rows: number };
    expect(verify).toMatchObject({ ok: true, rows: manifest.daemon.counts.auditRows });
    const current = await freshVersion(join(dir, 'fresh-daemon'), BINS.sluice, ['runs', '--json'], cliEnv({ SLUICE_HOME: join(dir, 'fresh-daemon') }), join(dir, 'fresh-daemon/state.db'));
    expect(userVersion(join(home, 'state.db'))).toBe(current);
    expect(current).toBeGreaterThanOrEqual(manifest.daemon.userVersion);
  });

  it('holds the runs, steps and attempts of the manifest, and its projections agree with the ledger', async () => {
    const { runs } = (await cliJson(BINS.sluice, ['runs', '--json'], env)) as { runs: { runId: string; state: string }[] };
    expect(runs.map((r) => r.runId).sort()).toEqual(manifest.daemon.runs.map((r) => r.runId).sort());
    let steps = 0;
    let attempts = 0;
    for (const expected of manifest.daemon.runs) {
      const detail = (await cliJson(BINS.sluice, ['run', 'show', expected.runId, '--json'], env)) as RunFacts;
      expect(detail).toMatchObject({ runId: expected.runId, state: expected.state, title: expected.title });
      expect(detail.steps.map((s) => ({ stepId: s.stepId, seq: s.seq, state: s.state, acceptedAttemptId: s.acceptedAttemptId ?? null }))).toEqual(
        expected.steps.map((s) => ({ stepId: s.stepId, seq: s.seq, state: s.state, acceptedAttemptId: s.acceptedAttemptId })),
      );
      for (const [i, s] of expected.steps.entries()) {
        expect(detail.steps[i]!.attempts.map((a) => ({ attemptId: a.attemptId, state: a.state, failureCode: a.failureCode ?? null, commit: a.commit ?? null }))).toEqual(s.attempts);
      }
      steps += detail.steps.length;
      attempts += detail.steps.reduce((n, s) => n + s.attempts.length, 0);
    }
    expect({ runs: runs.length, steps, attempts }).toEqual({ runs: manifest.daemon.counts.runs, steps: manifest.daemon.counts.steps, attempts: manifest.daemon.counts.attempts });
    expect(await cliJson(BINS.sluice, ['db', 'rebuild', '--check', '--json'], env)).toMatchObject({ ok: true });
  });

  it('keeps every artifact blob of the manifest, verified against its digest', async () => {
    expect(manifest.daemon.blobs).toHaveLength(manifest.daemon.counts.artifactBlobs);
    const stored = readdirSync(join(home, 'artifacts'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(stored).toHaveLength(manifest.daemon.blobs.length);
    const diff = manifest.daemon.artifactRefs.find((a) => a.kind === 'diff' && a.attemptId === manifest.ids.acceptedAttempt)!;
    const res = await runNode(BINS.sluice, ['artifact', 'cat', diff.digest], { env });
    expect(res.code, res.stderr).toBe(0);
    expect(sha256(Buffer.from(res.stdout, 'utf8'))).toBe(diff.digest);
  });

  it('refuses the old config until the operator opts in to simulation beside a code-running validation', async () => {
    const res = await runNode(BINS.sluice, ['workspace', 'list'], { env });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/BAD_REQUEST: config\.json is not valid: .*add "allowSimulationWithValidations": true/);
  });

  it('starts as a daemon on the old home, serves its artifacts and decides the step the old release left waiting', async () => {
    const configPath = join(home, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { workspaces: Record<string, Record<string, unknown>> };
    for (const w of Object.values(config.workspaces)) w['allowSimulationWithValidations'] = true;
    writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
    const daemon = new DaemonNode(home);
    await daemon.start();
    try {
      const refs: { digest: string }[] = [];
      for (const run of manifest.daemon.runs) refs.push(...((await daemon.verb('artifacts.list', { runId: run.runId })) as { artifacts: { digest: string }[] }).artifacts);
      expect(refs).toHaveLength(manifest.daemon.counts.artifactRefs);
      for (const ref of manifest.daemon.artifactRefs) {
        const got = (await daemon.verb('artifacts.get', { runId: ref.runId, digest: ref.digest })) as { content: string; encoding: string; eof: boolean };
        const bytes = Buffer.from(got.content, got.encoding === 'base64' ? 'base64' : 'utf8');
        expect({ digest: sha256(bytes), size: bytes.length, eof: got.eof }).toEqual({ digest: ref.digest, size: ref.size, eof: true });
      }
      const run = (await daemon.verb('runs.get', { runId: manifest.ids.activeRun })) as { state: string };
      expect(run.state).toBe('open');
      await daemon.verb('gates.approve', { gateId: manifest.ids.pendingGate, reason: 'approved after the upgrade' });
      const settled = await waitUntil(
        async () => {
          const step = (await daemon.verb('steps.get', { stepId: manifest.ids.pendingStep })) as { state: string };
          return step.state === 'awaiting_approval' ? undefined : step.state;
        },
        { what: 'the approved step to settle' },
      );
      expect(settled).toBe('succeeded');
    } finally {
      await daemon.stop();
    }
    const verify = (await cliJson(BINS.sluice, ['audit', 'verify', '--json'], env)) as { ok: boolean; rows: number };
    expect(verify.ok).toBe(true);
    expect(verify.rows).toBeGreaterThan(manifest.daemon.counts.auditRows);
  });

  it('is refused, unchanged, once a newer release has written it', async () => {
    const futureHome = join(dir, 'future-daemon');
    const future = fromTheFuture(join(home, 'state.db'), join(futureHome, 'state.db'));
    writeFileSync(join(futureHome, 'config.json'), readFileSync(join(home, 'config.json')), { mode: 0o600 });
    await expectUpgradeRefusal(BINS.sluice, ['audit', 'verify', '--json'], cliEnv({ SLUICE_HOME: futureHome }), future, 'sluice');
  });
});

describe(`a relay database written by ${RELEASE}`, () => {
  let db: string;
  let env: Record<string, string | undefined>;

  beforeAll(() => {
    const home = join(dir, 'relay-home');
    mkdirSync(home, { mode: 0o700 });
    db = join(home, 'relay.db');
    cpSync(join(FIXTURES, manifest.relay.db), db);
    env = cliEnv({ SLUICE_RELAY_HOME: home });
  });

  it('is the release it says it is', () => {
    expect(headerUserVersion(join(FIXTURES, manifest.relay.db))).toBe(manifest.relay.userVersion);
    expect(readdirSync(join(FIXTURES, 'relay')).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
  });

  it('migrates to the schema of this build and its audit chain verifies', async () => {
    const verify = (await cliJson(BINS.relay, ['audit', 'verify', '--json'], env)) as { ok: boolean; rows: number };
    expect(verify).toMatchObject({ ok: true, rows: manifest.relay.counts.auditRows });
    const fresh = join(dir, 'fresh-relay/relay.db');
    const current = await freshVersion(join(dir, 'fresh-relay'), BINS.relay, ['--db', fresh, 'org', 'list', '--json'], env, fresh);
    expect(userVersion(db)).toBe(current);
    expect(current).toBeGreaterThanOrEqual(manifest.relay.userVersion);
  });

  it('holds the orgs, tokens and instances of the manifest', async () => {
    const { orgs } = (await cliJson(BINS.relay, ['org', 'list', '--json'], env)) as { orgs: { orgId: string }[] };
    expect(orgs.map((o) => o.orgId).sort()).toEqual([manifest.ids.org, manifest.ids.otherOrg].sort());
    expect(orgs).toHaveLength(manifest.relay.counts.orgs);
    const { tokens } = (await cliJson(BINS.relay, ['token', 'list', '--json'], env)) as { tokens: { tokenId: string; revokedAt: string | null }[] };
    expect(tokens).toHaveLength(manifest.relay.counts.tokens);
    expect(tokens.filter((t) => t.revokedAt !== null).map((t) => t.tokenId)).toEqual([manifest.ids.revokedToken]);
    expect(tokens.map((t) => t.tokenId)).toEqual(expect.arrayContaining([manifest.ids.plannerToken, manifest.ids.readerToken]));
    const { instances } = (await cliJson(BINS.relay, ['instance', 'list', '--json'], env)) as { instances: { instanceId: string; orgId: string; state: string }[] };
    expect(instances).toEqual([expect.objectContaining({ instanceId: manifest.ids.instance, orgId: manifest.ids.org, state: 'active' })]);
  });

  it('starts as a relay on the old database and serves a planner of the old org', async () => {
    const relay = new RelayNode(join(dir, 'relay-home'));
    await relay.start();
    try {
      const pat = (await cliJson(BINS.relay, ['token', 'create', '--org', manifest.ids.org, '--name', 'after-upgrade', '--scopes', 'runs:read', '--json'], env)) as { token: string };
      const { instances } = (await new HttpPlanner(relay.url!, pat.token).call('instances.list', {})) as { instances: { instanceId: string; online: boolean }[] };
      expect(instances).toEqual([expect.objectContaining({ instanceId: manifest.ids.instance, online: false })]);
    } finally {
      await relay.stop();
    }
    const verify = (await cliJson(BINS.relay, ['audit', 'verify', '--json'], env)) as { ok: boolean; rows: number };
    expect(verify.ok).toBe(true);
    expect(verify.rows).toBeGreaterThan(manifest.relay.counts.auditRows);
  });

  it('is refused, unchanged, once a newer release has written it', async () => {
    const future = fromTheFuture(db, join(dir, 'future-relay/relay.db'));
    await expectUpgradeRefusal(BINS.relay, ['--db', future.file, 'org', 'list', '--json'], env, future, 'sluice-relay');
  });
});
