#!/usr/bin/env node
// `npm run demo`: the whole Sluice loop on this machine, with real processes and a real MCP client as the planner.
// `npm run demo -- --keep` leaves the stack running afterwards and prints how to connect to it.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import {
  FIX_TASK,
  LONG_TASK,
  McpPlanner,
  WRONG_FIX_TASK,
  followEvents,
  git,
  run,
  startStack,
} from '../test/helpers/index.mjs';

const KEEP = process.argv.includes('--keep');
let keeping = false;
const HELP = process.argv.includes('--help') || process.argv.includes('-h');
if (HELP) {
  console.log(`usage: npm run demo [-- --keep]

Runs the whole Sluice loop with temporary homes on free loopback ports and prints what happened:
a temporary git repo with a failing test, a daemon, a relay and a connector (real processes), and a real
MCP SDK client as the planner. Exits 0 only when every check held.

  --keep   leave the stack running afterwards and print how to connect Claude Code, curl and the CLIs;
           Ctrl-C stops it cleanly.`);
  process.exit(0);
}

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (s) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');

const t0 = Date.now();
const checks = [];
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

function section(title) {
  console.log(`\n${bold(cyan(`── ${title} `.padEnd(72, '─')))}${dim(` ${elapsed().padStart(5)}`)}`);
}
function say(text) {
  console.log(`  ${text}`);
}
function detail(text) {
  for (const line of String(text).replace(/\s+$/, '').split('\n')) console.log(`    ${dim(line)}`);
}
function check(label, ok, info) {
  checks.push({ label, ok: Boolean(ok) });
  console.log(`  ${ok ? green('✔') : red('✘')} ${label}${info ? dim(`  (${info})`) : ''}`);
  return Boolean(ok);
}
function oneLine(text) {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text.trim().replace(/\s+/g, ' ');
  }
}
function short(id) {
  return id ? `${id.slice(0, 12)}…` : String(id);
}
function describeEvent(e) {
  const d = e.data ?? {};
  const sha = (c) => (typeof c === 'string' ? c.slice(0, 10) : '');
  let what = '';
  if (d.from !== undefined && d.to !== undefined) what = e.type === 'run.head_moved' ? `${sha(d.from)} → ${sha(d.to)}` : `${d.from ?? '∅'} → ${d.to}`;
  if (e.type === 'attempt.log') what = (d.lines ?? []).map((l) => `${l.stream}: ${l.text}`).join(' | ').slice(0, 90);
  if (e.type === 'validation.recorded') what = `${d.name}: ${d.passed ? 'passed' : 'failed'} (exit ${d.exitCode})`;
  if (e.type === 'gate.created' || e.type === 'gate.decided') what = `${d.kind ?? ''} ${d.status ?? ''}`.trim();
  if (e.type === 'artifact.recorded') what = `${d.kind} ${d.name ?? ''} ${d.size} B`;
  if (e.type === 'step.queued') what = `executor ${d.executor}, validations [${(d.validations ?? []).join(', ')}]`;
  if (d.failureCode) what += ` (${d.failureCode})`;
  if (d.commit && e.type === 'attempt.state_changed') what += ` commit ${sha(d.commit)}`;
  return `#${String(e.cursor).padEnd(4)} ${e.type.padEnd(22)} ${what}`;
}

/** Follow the run's events until the step settles; print each event; return the settled step and new cursor. */
async function followStep(planner, runId, stepId, cursor, settledStates) {
  const res = await followEvents(planner, {
    runId,
    after: cursor,
    timeoutMs: 20_000,
    onEvent: (e) => detail(describeEvent(e)),
    until: (e) => e.type === 'step.state_changed' && e.stepId === stepId && settledStates.includes(e.data.to),
  });
  const step = await planner.call('steps.get', { stepId });
  return { step, cursor: res.cursor };
}

/** Read an artifact in bounded chunks through the planner and check its sha256 against the digest. */
async function fetchArtifact(planner, runId, digest, chunk) {
  const parts = [];
  let offset = 0;
  let calls = 0;
  for (;;) {
    const r = await planner.call('artifacts.get', { runId, digest, offset, length: chunk });
    calls += 1;
    const buf = Buffer.from(r.content, r.encoding === 'base64' ? 'base64' : 'utf8');
    parts.push(buf);
    offset += buf.length;
    if (r.eof || buf.length === 0 || calls > 10_000) break;
  }
  const bytes = Buffer.concat(parts);
  const computed = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { bytes, computed, calls };
}

/**
 * The demo runs its agent and test in the sandbox (docs/SANDBOX.md). Where bubblewrap cannot run, it says why and
 * sets "sandbox": "off" in its own workspace, which is what an operator would have to write too.
 */
async function sandboxMode() {
  const { sandboxAvailability } = await import('../packages/daemon/dist/sandbox/index.js');
  const a = sandboxAvailability();
  if (a.ok) return 'on';
  say(`${bold('warning:')} the sandbox is unavailable here (${a.reason}); this demo's workspace sets "sandbox": "off" and runs unconfined`);
  return 'off';
}

async function main() {
  section('1. Set-up: a project with a failing test, and the three Sluice processes');
  const stack = await startStack({ workspaceId: 'tiny-math', approval: { policy: 'always', remote: true }, sandbox: await sandboxMode(), keepDir: false });
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return undefined;
    stopped = true;
    return stack.stop();
  };
  // Ctrl-C during the story stops the stack cleanly too (in --keep mode it is the expected way out).
  const interrupt = () => {
    if (KEEP && keeping) return;
    console.log(`\n${red('Interrupted: stopping the stack…')}`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    const repo = stack.repo.path;
    say(`temporary git repo ${bold(repo)} (branch main, commit ${stack.repo.head.slice(0, 10)})`);
    const before = await run(process.execPath, ['test.js'], { cwd: repo }).then(
      () => 'passed',
      (err) => err.message.split('\n').find((l) => /should be/.test(l)) ?? 'failed',
    );
    check('`node test.js` fails before Sluice does anything', before !== 'passed', before.trim().slice(0, 90));
    say(`daemon    ${stack.daemon.url}   home ${dim(stack.daemon.home)}`);
    say(`relay     ${stack.relay.url}   home ${dim(stack.relay.home)}`);
    say(`org ${stack.org.orgId}: planner token ${short(stack.org.plannerToken)} (shown once), enrollment token used once`);
    say(`connector enrolled as ${stack.connector.instanceId}, sharing workspace ${bold(stack.workspaceId)}: connected`);
    say(dim(`workspace config: executor "simulation", validation "test" = ["node","test.js"], allowSimulationWithValidations (operator opt-in), approval policy "always"`));

    section('2. The planner: a real MCP SDK client over Streamable HTTP with the planner token');
    const planner = await new McpPlanner(stack.relay.url, stack.org.plannerToken).connect();
    let fetched;
    try {
      const tools = await planner.toolNames();
      say(`${tools.length} tools: ${dim(tools.join(', '))}`);
      const { instances } = await planner.call('instances.list', {});
      const inst = instances.find((i) => i.instanceId === stack.connector.instanceId);
      check('instances_list shows the connector online with the shared workspace', inst?.online && inst.workspaces.some((w) => w.workspaceId === stack.workspaceId), inst ? `${inst.name}: ${inst.workspaces.map((w) => w.workspaceId).join(', ')}` : 'missing');

      const runObj = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'Fix add()' });
      const runId = runObj.runId;
      const runRef = `refs/heads/${runObj.branch.replace(/^refs\/heads\//, '')}`;
      say(`runs_open → ${bold(runId)} on branch ${runObj.branch} at ${runObj.baseCommit.slice(0, 10)}`);
      let cursor = 0;

      section('3. Step 1: the simulation executor fixes the bug');
      const step1 = await planner.call('steps.dispatch', { runId, executor: 'simulation', task: FIX_TASK, validations: ['test'], idempotencyKey: 'fix-add-1' });
      const again = await planner.call('steps.dispatch', { runId, executor: 'simulation', task: FIX_TASK, validations: ['test'], idempotencyKey: 'fix-add-1' });
      say(`steps_dispatch → ${step1.stepId} (${step1.state})`);
      check('dispatching again with the same idempotency key returns the same step', again.stepId === step1.stepId);
      say('following events (events_list with cursor and waitMs):');
      const f1 = await followStep(planner, runId, step1.stepId, cursor, ['awaiting_approval', 'succeeded', 'failed', 'cancelled']);
      cursor = f1.cursor;
      const s1 = f1.step;
      const vGate = s1.gates.find((g) => g.kind === 'validation');
      const aGate = s1.gates.find((g) => g.kind === 'approval');
      const vres = s1.validationResults.find((v) => v.name === 'test');
      check('validation gate passed (`node test.js` in the attempt worktree)', vGate?.status === 'passed' && vres?.passed, vres ? `exit ${vres.exitCode} in ${vres.durationMs} ms` : 'no result');
      check('approval gate is waiting', s1.state === 'awaiting_approval' && aGate?.status === 'pending', `step ${s1.state}, gate ${aGate?.status}`);
      const runHeadBefore = await git(repo, ['rev-parse', runRef]);
      check('the run branch has not moved before approval', runHeadBefore === runObj.baseCommit, runHeadBefore.slice(0, 10));

      const approved = await planner.call('gates.approve', { gateId: aGate.gateId, reason: 'test passes; diff reviewed' });
      say(`gates_approve → ${approved.status} by ${approved.decidedBy}`);
      const f1b = await followStep(planner, runId, step1.stepId, cursor, ['succeeded', 'failed', 'cancelled']);
      cursor = f1b.cursor;
      const s1b = f1b.step;
      const att1 = s1b.attempts.find((a) => a.attemptId === (s1b.acceptedAttemptId ?? approved.acceptedAttemptId)) ?? s1b.attempts[0];
      const runHead1 = await git(repo, ['rev-parse', runRef]);
      check('step 1 succeeded and the run branch fast-forwarded to the attempt commit', s1b.state === 'succeeded' && runHead1 === att1?.commit, `${runObj.branch} = ${runHead1.slice(0, 10)}`);
      const operatorHead = await git(repo, ['rev-parse', 'HEAD']);
      const operatorStatus = await git(repo, ['status', '--porcelain']);
      check("the operator's checkout is untouched (main, clean working tree)", operatorHead === stack.repo.head && operatorStatus === '', `HEAD ${operatorHead.slice(0, 10)}`);

      section('4. The diff artifact, fetched by digest in bounded chunks');
      const { artifacts } = await planner.call('artifacts.list', { runId, attemptId: att1.attemptId });
      say(`artifacts_list → ${artifacts.map((a) => `${a.kind}(${a.size} B)`).join(', ')}`);
      const diffRef = artifacts.find((a) => a.kind === 'diff');
      fetched = await fetchArtifact(planner, runId, diffRef.digest, 128);
      check('diff artifact fetched by digest and its sha256 matches', fetched.computed === diffRef.digest && fetched.bytes.length === diffRef.size, `${fetched.bytes.length} bytes in ${fetched.calls} calls of ≤128 B, ${diffRef.digest.slice(0, 19)}…`);
      detail(fetched.bytes.toString('utf8'));

      section('5. Step 2: a change that fails validation does not move the run branch');
      const step2 = await planner.call('steps.dispatch', { runId, executor: 'simulation', task: WRONG_FIX_TASK, validations: ['test'], idempotencyKey: 'faster-add-2' });
      const f2 = await followStep(planner, runId, step2.stepId, cursor, ['awaiting_approval', 'succeeded', 'failed', 'cancelled']);
      cursor = f2.cursor;
      const v2 = f2.step.validationResults.find((v) => v.name === 'test');
      check('step 2 failed its validation', f2.step.state === 'failed' && v2 && !v2.passed, v2 ? `node test.js exit ${v2.exitCode}` : f2.step.state);
      const runHead2 = await git(repo, ['rev-parse', runRef]);
      check('the run branch did not move (git rev-parse)', runHead2 === runHead1, `${runObj.branch} = ${runHead2.slice(0, 10)}`);

      section('6. Step 3: a long-running step, cancelled mid-run');
      const step3 = await planner.call('steps.dispatch', { runId, executor: 'simulation', task: LONG_TASK, idempotencyKey: 'slow-3' });
      const f3 = await followEvents(planner, {
        runId,
        after: cursor,
        timeoutMs: 15_000,
        onEvent: (e) => detail(describeEvent(e)),
        until: (e) => e.type === 'attempt.state_changed' && e.stepId === step3.stepId && e.data.to === 'running',
      });
      cursor = f3.cursor;
      const running = { attemptId: f3.match.attemptId };
      say(`attempt ${running.attemptId} is running; attempts_cancel…`);
      const cancelStart = Date.now();
      const cancelled = await planner.call('attempts.cancel', { attemptId: running.attemptId, reason: 'taking too long' });
      check('the attempt is cancelled (reported after its process exited)', cancelled.attempt.state === 'cancelled' && !cancelled.alreadyFinished, `${Date.now() - cancelStart} ms`);
      const s3 = await planner.call('steps.get', { stepId: step3.stepId });
      check('step 3 is cancelled', s3.state === 'cancelled', s3.state);
      const again3 = await planner.call('attempts.cancel', { attemptId: running.attemptId });
      check('cancelling it again says it already finished and changes nothing', again3.alreadyFinished === true && again3.attempt.state === 'cancelled');
      const runHead3 = await git(repo, ['rev-parse', runRef]);
      check('the run branch still points at step 1', runHead3 === runHead1);
      const closed = await planner.call('runs.close', { runId });
      check('runs_close → completed', closed.state === 'completed', closed.state);

      section('7. What the operator sees');
      say(`git log main..${runObj.branch}:`);
      detail(await git(repo, ['log', '--format=%h %s (%an)', `main..${runRef}`]));
      say(`git diff --stat main ${runObj.branch}:`);
      detail(await git(repo, ['diff', '--stat', 'main', runRef]));
      const branchDiff = await run('git', ['diff', '--binary', '--full-index', '--no-color', '--no-ext-diff', '--no-textconv', 'main', runRef, '--'], { cwd: repo });
      check('the run branch diff is byte-identical to the diff artifact the planner fetched', Buffer.from(branchDiff, 'utf8').equals(fetched.bytes));
      const wt = join(stack.dir, 'verify');
      await git(repo, ['worktree', 'add', '-q', '--detach', wt, runRef]);
      const after = await run(process.execPath, ['test.js'], { cwd: wt }).then(
        () => true,
        () => false,
      );
      await git(repo, ['worktree', 'remove', '--force', wt]);
      check('`node test.js` passes on the run branch', after);

      say(`SQL against the daemon ledger (${join(stack.daemon.home, 'state.db')}, read-only):`);
      const db = new Database(join(stack.daemon.home, 'state.db'), { readonly: true, fileMustExist: true });
      try {
        const sql = `SELECT s.seq, a.attempt_id, a.state, a.failure_code, a.exit_code
  FROM attempts a JOIN steps s ON s.step_id = a.step_id
  WHERE a.run_id = ? ORDER BY s.seq, a.number`;
        detail(sql);
        const rows = db.prepare(sql).all(runId);
        for (const r of rows) detail(`step ${r.seq}  ${r.attempt_id}  ${String(r.state).padEnd(10)} ${r.failure_code ?? ''}`);
        check('the ledger has the three attempts: succeeded, failed, cancelled', rows.map((r) => r.state).join(',') === 'succeeded,failed,cancelled');
        const gatesSql = `SELECT g.kind, e.status, e.actor, e.reason
  FROM gate_evaluations e JOIN gates g ON g.gate_id = e.gate_id
  WHERE g.run_id = ? ORDER BY e.id`;
        detail(gatesSql);
        const gateRows = db.prepare(gatesSql).all(runId);
        for (const r of gateRows) detail(`${String(r.kind).padEnd(10)} ${String(r.status).padEnd(9)} ${r.actor}${r.reason ? `  "${r.reason}"` : ''}`);
        check('the approval is recorded with the planner as its actor', gateRows.some((r) => r.kind === 'approval' && r.status === 'approved' && String(r.actor).startsWith('planner:org_')));
      } finally {
        db.close();
      }

      section('8. Audit chains on both sides');
      const [dAudit, rAudit] = await Promise.all([stack.daemon.cli(['audit', 'verify', '--json']), stack.relay.cli(['audit', 'verify', '--json'])]);
      detail(`sluice audit verify --json → exit ${dAudit.code} ${oneLine(dAudit.stdout)}`);
      check('`sluice audit verify`: the daemon audit chain is intact', dAudit.code === 0);
      detail(`sluice-relay audit verify --json → exit ${rAudit.code} ${oneLine(rAudit.stdout)}`);
      check('`sluice-relay audit verify`: the relay audit chain is intact', rAudit.code === 0);
    } finally {
      await planner.close();
    }

    if (KEEP) {
      keeping = true;
      await keepRunning(stack);
    }
    section('9. Shut-down');
    const results = await stopAll();
    for (const [name, r] of Object.entries(results)) check(`${name} stopped cleanly on SIGTERM`, r?.clean, r ? `exit ${r.code ?? r.signal}` : 'not started');
  } finally {
    await stopAll().catch(() => undefined);
  }
}

function keepRunning(stack) {
  const relay = stack.relay.url;
  const token = stack.org.plannerToken;
  section('The stack keeps running (--keep)');
  console.log(`
  Connect Claude Code to it (the token is a throwaway of this demo):
    claude mcp add --transport http sluice ${relay}/mcp --header "Authorization: Bearer ${token}"

  Call /api/v2 with curl:
    curl -s -X POST ${relay}/api/v2/instances.list -H "Authorization: Bearer ${token}" -H 'content-type: application/json' -d '{}'
    curl -s -X POST ${relay}/api/v2/runs.open -H "Authorization: Bearer ${token}" -H 'content-type: application/json' -d '{"workspaceId":"${stack.workspaceId}","title":"from curl"}'
    curl -s -X POST ${relay}/api/v2/runs.list -H "Authorization: Bearer ${token}" -H 'content-type: application/json' -d '{}'
    curl -s -X POST ${relay}/api/v2/events.list -H "Authorization: Bearer ${token}" -H 'content-type: application/json' -d '{"runId":"RUN_ID","after":0,"waitMs":10000}'
    curl -sN ${relay}/api/v2/runs/RUN_ID/events?after=0 -H "Authorization: Bearer ${token}"      # SSE

  Operator commands (from this checkout):
    export SLUICE_HOME=${stack.daemon.home}
    node packages/daemon/dist/cli/main.js status
    node packages/daemon/dist/cli/main.js runs
    node packages/daemon/dist/cli/main.js events --follow
    node packages/daemon/dist/cli/main.js audit verify
    sqlite3 -readonly $SLUICE_HOME/state.db 'SELECT run_id, state, title FROM runs'
    SLUICE_RELAY_HOME=${stack.relay.home} node packages/relay/dist/cli/main.js instance list --json
    SLUICE_HOME=${stack.daemon.home} node packages/connector/dist/cli/main.js status

  The repo is ${stack.repo.path}. Press Ctrl-C to stop everything.`);
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      console.log('');
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

main()
  .catch((err) => {
    checks.push({ label: 'the demo ran to the end', ok: false });
    console.error(`\n${red('The demo stopped with an error:')} ${err.stack ?? err.message}`);
  })
  .finally(async () => {
    await sleep(0);
    const failed = checks.filter((c) => !c.ok);
    console.log(`\n${bold(failed.length === 0 ? green(`All ${checks.length} checks held`) : red(`${failed.length} of ${checks.length} checks failed`))} in ${elapsed()}.`);
    for (const c of failed) console.log(`  ${red('✘')} ${c.label}`);
    process.exit(failed.length === 0 ? 0 : 1);
  });
