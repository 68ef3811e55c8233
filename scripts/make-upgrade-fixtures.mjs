#!/usr/bin/env node
// Writes the upgrade fixtures: a daemon ledger and a relay database as the 0.1.0 release writes them, after a small
// but complete history driven through real processes (relay, connector, daemon) by a planner over /api/v2.
//
//   usage: node make-upgrade-fixtures.mjs <outdir> [--checkout <dir>]
//
// The stack is started from the checkout (default: the current directory), which must be a built tree of the
// release the fixtures stand for. The script imports that checkout's own test harness, so it drives the processes
// with the APIs of that release wherever this file lives.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The release the committed fixtures were made from. */
const EXPECTED_COMMIT = '2b80abf';
/** Stands for the absolute path of the workspace repo in the committed config.json. */
const WORKSPACE_PLACEHOLDER = '@WORKSPACE_REPO@';

function parseArgs(argv) {
  const args = { outdir: undefined, checkout: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--checkout') args.checkout = resolve(argv[++i] ?? '');
    else if (argv[i] === '--help' || argv[i] === '-h') args.help = true;
    else if (!args.outdir) args.outdir = resolve(argv[i]);
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  return args;
}

/** The output folder is replaced only when it is missing, empty, or holds fixtures written by this script before. */
function checkOutdir(outdir) {
  if (existsSync(outdir) && readdirSync(outdir).length > 0 && !existsSync(join(outdir, 'manifest.json'))) {
    throw new Error(`${outdir} is not empty and holds no manifest.json: refusing to overwrite it`);
  }
}

/** Replace the output folder with the finished staging folder. */
function publish(staging, outdir) {
  checkOutdir(outdir);
  rmSync(outdir, { recursive: true, force: true });
  cpSync(staging, outdir, { recursive: true });
}

function gitOut(cwd, args) {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** Follow a run's events until a step reaches one of `states`; returns the step and the cursor after it. */
async function settle(h, planner, runId, stepId, cursor, states) {
  const res = await h.followEvents(planner, {
    runId,
    after: cursor,
    timeoutMs: 30_000,
    until: (e) => e.type === 'step.state_changed' && e.stepId === stepId && states.includes(e.data.to),
  });
  return { step: await planner.call('steps.get', { stepId }), cursor: res.cursor };
}

function expectState(what, step, state) {
  if (step.state !== state) throw new Error(`${what}: expected step state ${state}, got ${step.state}`);
  return step;
}

const approvalGate = (step) => step.gates.find((g) => g.kind === 'approval' && g.status === 'pending');
const FINAL = ['succeeded', 'failed', 'cancelled'];

/**
 * The history: one completed run with four steps (accepted, failed validation, rejected, cancelled) and one run
 * left active with a step waiting for approval, so an upgrade test can decide it under the new code.
 */
async function driveHistory(h, stack, planner) {
  const ids = {};
  const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'Fix add()' });
  ids.completedRun = run.runId;
  let cursor = 0;

  const s1 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: h.FIX_TASK, validations: ['test'], idempotencyKey: 'fix-add-1' });
  let f = await settle(h, planner, run.runId, s1.stepId, cursor, ['awaiting_approval', ...FINAL]);
  expectState('fix step', f.step, 'awaiting_approval');
  await planner.call('gates.approve', { gateId: approvalGate(f.step).gateId, reason: 'test passes; diff reviewed' });
  f = await settle(h, planner, run.runId, s1.stepId, f.cursor, FINAL);
  ids.acceptedStep = expectState('fix step after approval', f.step, 'succeeded').stepId;
  ids.acceptedAttempt = f.step.acceptedAttemptId;
  ids.acceptedCommit = f.step.attempts.find((a) => a.attemptId === f.step.acceptedAttemptId)?.commit;
  cursor = f.cursor;

  const s2 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: h.WRONG_FIX_TASK, validations: ['test'], idempotencyKey: 'faster-add-2' });
  f = await settle(h, planner, run.runId, s2.stepId, cursor, ['awaiting_approval', ...FINAL]);
  ids.failedValidationStep = expectState('wrong fix step', f.step, 'failed').stepId;
  cursor = f.cursor;

  const docsTask = `Document add() in the README.\n${h.writeFile('README.md', '# tiny-math\n\n`add(a, b)` adds two numbers; `node test.js` runs the tests.\n')}\nsummary README documents add()`;
  const s3 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: docsTask, validations: ['test'], idempotencyKey: 'docs-3' });
  f = await settle(h, planner, run.runId, s3.stepId, cursor, ['awaiting_approval', ...FINAL]);
  expectState('docs step', f.step, 'awaiting_approval');
  await planner.call('gates.reject', { gateId: approvalGate(f.step).gateId, reason: 'wording is off' });
  f = await settle(h, planner, run.runId, s3.stepId, f.cursor, FINAL);
  ids.rejectedStep = f.step.stepId;
  ids.rejectedStepState = f.step.state;
  cursor = f.cursor;

  const s4 = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: h.LONG_TASK, idempotencyKey: 'slow-4' });
  const running = await h.followEvents(planner, {
    runId: run.runId,
    after: cursor,
    timeoutMs: 30_000,
    until: (e) => e.type === 'attempt.state_changed' && e.stepId === s4.stepId && e.data.to === 'running',
  });
  await planner.call('attempts.cancel', { attemptId: running.match.attemptId, reason: 'taking too long' });
  ids.cancelledStep = expectState('long step', await planner.call('steps.get', { stepId: s4.stepId }), 'cancelled').stepId;
  ids.cancelledAttempt = running.match.attemptId;
  await planner.call('runs.close', { runId: run.runId });

  const open = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'Explain add()' });
  ids.activeRun = open.runId;
  const commentTask = `Add a comment.\n${h.writeFile('src/math.js', h.FIXED_MATH.replace('/** Adds two numbers. */', '/** Adds two numbers (a + b). */'))}`;
  const s5 = await planner.call('steps.dispatch', { runId: open.runId, executor: 'simulation', task: commentTask, validations: [], idempotencyKey: 'comment-1' });
  f = await settle(h, planner, open.runId, s5.stepId, 0, ['awaiting_approval', ...FINAL]);
  expectState('pending step', f.step, 'awaiting_approval');
  ids.pendingStep = s5.stepId;
  ids.pendingGate = approvalGate(f.step).gateId;
  return ids;
}

/** Tokens and instances beyond what the stack made: a read-only token, a revoked one (tried once), a spare enrollment. */
async function relayExtras(h, stack) {
  const relay = stack.relay;
  const reader = await relay.cliJson(['token', 'create', '--org', stack.org.orgId, '--name', 'dashboard', '--scopes', 'runs:read,audit:read']);
  const leaked = await relay.cliJson(['token', 'create', '--org', stack.org.orgId, '--name', 'leaked-in-ci-log', '--scopes', 'runs:read']);
  await relay.cliJson(['token', 'revoke', leaked.tokenId]);
  const refused = await new h.HttpPlanner(relay.url, leaked.token).call('runs.list', {}).then(
    () => null,
    (err) => err.code,
  );
  if (refused === null) throw new Error('the revoked token was still accepted');
  const other = await relay.cliJson(['org', 'create', 'other-team']);
  await relay.cliJson(['token', 'create', '--org', other.orgId, '--name', 'other-planner', '--scopes', 'runs:read']);
  await relay.cliJson(['enroll-token', 'create', '--org', other.orgId, '--ttl-minutes', '60']);
  const tokens = await relay.cliJson(['token', 'list']);
  const planner = tokens.tokens.find((t) => t.orgId === stack.org.orgId && t.name === 'demo-planner');
  return { readerToken: reader.tokenId, revokedToken: leaked.tokenId, revokedTokenRefusedWith: refused, plannerToken: planner.tokenId, otherOrg: other.orgId };
}

/** Checkpoint and close a SQLite file so it stands alone (no -wal, no -shm), then copy it. */
function copyDatabase(Database, from, to) {
  const db = new Database(from);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  for (const side of ['-wal', '-shm']) if (existsSync(`${from}${side}`)) throw new Error(`${from}${side} is still there after a clean close`);
  cpSync(from, to);
}

function count(db, sql, ...params) {
  return db.prepare(sql).pluck().get(...params);
}

function readOnly(Database, file, read) {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function daemonFacts(Database, file) {
  return readOnly(Database, file, (db) => {
    const runs = db.prepare('SELECT run_id AS runId, state, title FROM runs ORDER BY created_at').all();
    for (const r of runs) {
      r.steps = db.prepare('SELECT step_id AS stepId, seq, state, accepted_attempt_id AS acceptedAttemptId FROM steps WHERE run_id = ? ORDER BY seq').all(r.runId);
      for (const s of r.steps) s.attempts = db.prepare('SELECT attempt_id AS attemptId, state, failure_code AS failureCode, commit_sha AS "commit" FROM attempts WHERE step_id = ? ORDER BY number').all(s.stepId);
    }
    return {
      userVersion: db.pragma('user_version', { simple: true }),
      counts: {
        runs: count(db, 'SELECT count(*) FROM runs'),
        steps: count(db, 'SELECT count(*) FROM steps'),
        attempts: count(db, 'SELECT count(*) FROM attempts'),
        artifactRefs: count(db, 'SELECT count(*) FROM artifact_refs'),
        artifactBlobs: count(db, 'SELECT count(DISTINCT digest) FROM artifact_refs'),
        events: count(db, 'SELECT count(*) FROM events'),
        gates: count(db, 'SELECT count(*) FROM gates'),
        gateEvaluations: count(db, 'SELECT count(*) FROM gate_evaluations'),
        validationResults: count(db, 'SELECT count(*) FROM validation_results'),
        auditRows: count(db, 'SELECT count(*) FROM audit'),
      },
      runs,
      auditActions: db.prepare('SELECT action, count(*) AS n FROM audit GROUP BY action ORDER BY action').all(),
      artifactRefs: db.prepare('SELECT artifact_id AS artifactId, kind, name, digest, size, run_id AS runId, attempt_id AS attemptId FROM artifact_refs ORDER BY created_at, artifact_id').all(),
      blobs: db.prepare('SELECT digest, size FROM artifact_refs GROUP BY digest ORDER BY digest').all(),
    };
  });
}

function relayFacts(Database, file) {
  return readOnly(Database, file, (db) => ({
    userVersion: db.pragma('user_version', { simple: true }),
    counts: {
      orgs: count(db, 'SELECT count(*) FROM orgs'),
      tokens: count(db, 'SELECT count(*) FROM tokens'),
      revokedTokens: count(db, 'SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL'),
      enrollmentTokens: count(db, 'SELECT count(*) FROM enrollment_tokens'),
      usedEnrollmentTokens: count(db, 'SELECT count(*) FROM enrollment_tokens WHERE used_at IS NOT NULL'),
      instances: count(db, 'SELECT count(*) FROM instances'),
      idOwners: count(db, 'SELECT count(*) FROM id_owners'),
      dispatchKeys: count(db, 'SELECT count(*) FROM dispatch_keys'),
      auditRows: count(db, 'SELECT count(*) FROM audit'),
    },
    auditActions: db.prepare('SELECT action, count(*) AS n FROM audit GROUP BY action ORDER BY action').all(),
  }));
}

/** The daemon's config.json with the machine-specific repo path replaced by the placeholder. */
function portableConfig(configPath, repoPath) {
  const text = readFileSync(configPath, 'utf8');
  const cfg = JSON.parse(text);
  for (const ws of Object.values(cfg.workspaces ?? {})) if (ws.path === repoPath) ws.path = WORKSPACE_PLACEHOLDER;
  const out = `${JSON.stringify(cfg, null, 2)}\n`;
  if (out.includes(repoPath) || /slc_|token/i.test(out)) throw new Error('config.json still holds a machine path or something token-like');
  return out;
}

function sizes(outdir) {
  const files = {};
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(outdir, p)] = statSync(p).size;
    }
  };
  walk(outdir);
  return { files, total: Object.values(files).reduce((a, b) => a + b, 0) };
}

const table = (counts) => Object.entries(counts).map(([k, v]) => `| ${k} | ${v} |`).join('\n');

/** The README of the fixtures, written from the manifest so the two never disagree. */
function readme(m) {
  const d = m.daemon;
  const ids = m.ids;
  return `# Upgrade fixtures: Sluice ${m.madeBy.release}

Written by \`${m.madeBy.script}\` from commit \`${m.madeBy.commit}\` (release ${m.madeBy.release}) with Node ${m.madeBy.node}.
Do not edit these files by hand; regenerate them:

\`\`\`sh
git worktree add /tmp/x ${m.madeBy.commit.slice(0, 7)} && cd /tmp/x && npm ci && node <this checkout>/scripts/make-upgrade-fixtures.mjs <this checkout>/test/fixtures/upgrade/${m.madeBy.release}
\`\`\`

The script starts a real relay, connector and daemon from the built checkout it runs in (temp homes, loopback ports),
drives the history below through the relay's \`/api/v2\` as a planner, stops everything with SIGTERM, checkpoints the
SQLite files and copies them here. \`manifest.json\` holds every count and id below for tests to assert against.

## Files

- \`daemon/state.db\`: the daemon ledger (\`SLUICE_HOME/state.db\`), schema \`user_version\` ${d.userVersion}, WAL mode, checkpointed (no -wal/-shm).
- \`daemon/artifacts/\`: the content-addressed artifact blobs (\`SLUICE_HOME/artifacts/sha256/..\`), ${d.blobs.length} blobs.
- \`daemon/config.json\`: the daemon config. The workspace path is the placeholder \`${m.workspace.pathPlaceholder}\`:
  replace it with the path of the repo restored from the bundle. It holds no secret. Not included: \`daemon.token\`
  (the daemon creates a new one when it starts), \`connector.json\` (the connector's private key), \`daemon.json\`,
  \`connector.state.json\` and the attempt worktrees (\`SLUICE_HOME/worktrees\`).
- \`relay/relay.db\`: the relay database (\`SLUICE_RELAY_HOME/relay.db\`), schema \`user_version\` ${m.relay.userVersion}. Token
  secrets are stored only as hashes; the secrets themselves were never written down.
- \`${m.workspace.bundle}\`: \`git bundle create --all\` of the workspace repo \`${m.workspace.id}\` (main, the run branches and
  the attempt branches the ledger names). Restore it with
  \`git init -q -b main <dir> && git -C <dir> fetch -q --update-head-ok <bundle> 'refs/*:refs/*' && git -C <dir> checkout -q main\`.

## History

- Run \`${ids.completedRun}\` "Fix add()", closed (\`completed\`), four steps:
  1. \`${ids.acceptedStep}\`: fixes add(), validation \`test\` passes, approved, succeeded; accepted attempt
     \`${ids.acceptedAttempt}\`, commit \`${ids.acceptedCommit}\` (the run branch head).
  2. \`${ids.failedValidationStep}\`: a wrong fix, validation \`test\` fails: step failed (\`VALIDATION_FAILED\`).
  3. \`${ids.rejectedStep}\`: a README change, validation passes, approval rejected: step ${ids.rejectedStepState} (\`REJECTED\`).
  4. \`${ids.cancelledStep}\`: a long task, attempt \`${ids.cancelledAttempt}\` cancelled while running.
- Run \`${ids.activeRun}\` "Explain add()", still open: step \`${ids.pendingStep}\` awaits approval at gate
  \`${ids.pendingGate}\` (its attempt worktree is not included; its commit is in the bundle).
- Relay: org \`${ids.org}\` with instance \`${ids.instance}\` (enrolled, connected, disconnected), planner token
  \`${ids.plannerToken}\` (every scope but admin), read-only token \`${ids.readerToken}\`, token \`${ids.revokedToken}\` revoked and
  then refused (\`${ids.revokedTokenRefusedWith}\`); org \`${ids.otherOrg}\` with one token and an unused enrollment token.

## Counts

| daemon | n |
| --- | --- |
${table(d.counts)}

| relay | n |
| --- | --- |
${table(m.relay.counts)}
`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help || !args.outdir) {
    console.log('usage: node make-upgrade-fixtures.mjs <outdir> [--checkout <built checkout of the release, default .>]');
    process.exit(args.help ? 0 : 2);
  }
  const checkout = args.checkout;
  const commit = gitOut(checkout, ['rev-parse', 'HEAD']);
  const version = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')).version;
  if (!commit.startsWith(EXPECTED_COMMIT)) console.warn(`warning: ${checkout} is at ${commit.slice(0, 10)}, not ${EXPECTED_COMMIT}: these are not the 0.1.0 fixtures`);
  const h = await import(pathToFileURL(join(checkout, 'test/helpers/index.mjs')).href);
  const Database = createRequire(join(checkout, 'packages/daemon/package.json'))('better-sqlite3');
  checkOutdir(args.outdir);

  const stack = await h.startStack({ workspaceId: 'tiny-math', approval: { policy: 'always', remote: true }, keepDir: true });
  let stopped = false;
  try {
    const planner = await new h.HttpPlanner(stack.relay.url, stack.org.plannerToken).connect();
    const ids = await driveHistory(h, stack, planner);
    Object.assign(ids, await relayExtras(h, stack), { instance: stack.connector.instanceId, org: stack.org.orgId });
    const results = await stack.stop();
    stopped = true;
    for (const [name, r] of Object.entries(results)) if (!r?.clean) throw new Error(`${name} did not stop cleanly: ${JSON.stringify(r)}`);

    const out = join(stack.dir, 'fixtures');
    const home = stack.daemon.home;
    mkdirSync(join(out, 'daemon'), { recursive: true });
    mkdirSync(join(out, 'relay'));
    // Read the facts first: a read-only connection leaves -wal and -shm behind, which the copy then clears.
    const daemonDb = daemonFacts(Database, join(home, 'state.db'));
    const relayDb = relayFacts(Database, join(stack.relay.home, 'relay.db'));
    copyDatabase(Database, join(home, 'state.db'), join(out, 'daemon/state.db'));
    cpSync(join(home, 'artifacts/sha256'), join(out, 'daemon/artifacts/sha256'), { recursive: true });
    writeFileSync(join(out, 'daemon/config.json'), portableConfig(join(home, 'config.json'), stack.repo.path));
    copyDatabase(Database, join(stack.relay.home, 'relay.db'), join(out, 'relay/relay.db'));
    await h.git(stack.repo.path, ['bundle', 'create', join(out, 'tiny-math.bundle'), '--all']);

    const refs = Object.fromEntries(
      (await h.git(stack.repo.path, ['for-each-ref', '--format=%(refname) %(objectname)'])).split('\n').map((l) => l.split(' ')),
    );
    const manifest = {
      format: 1,
      madeBy: { release: version, commit, script: 'scripts/make-upgrade-fixtures.mjs', node: process.version, at: new Date().toISOString() },
      workspace: { id: stack.workspaceId, bundle: 'tiny-math.bundle', pathPlaceholder: WORKSPACE_PLACEHOLDER, initialCommit: stack.repo.head, refs },
      ids,
      daemon: { db: 'daemon/state.db', artifacts: 'daemon/artifacts', config: 'daemon/config.json', ...daemonDb },
      relay: { db: 'relay/relay.db', ...relayDb },
    };
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(out, 'README.md'), readme(manifest));
    publish(out, args.outdir);
    const { files, total } = sizes(args.outdir);
    console.log(JSON.stringify({ outdir: args.outdir, commit, total, files }, null, 2));
  } finally {
    if (!stopped) await stack.stop().catch(() => undefined);
    rmSync(stack.dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`make-upgrade-fixtures: ${err.stack ?? err.message}`);
  process.exit(1);
});
