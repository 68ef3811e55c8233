import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  AttemptId,
  GateId,
  RunId,
  SETTLED_STEP_STATES,
  SluiceError,
  StepId,
  daemonVerbPath,
  type Event,
  type Gate,
  type Run,
  type Step,
  type StepDetail,
  type VerbInput,
  type VerbName,
} from '@sluice/shared-protocol';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { parseDuration } from '../config/duration.js';
import { callDaemon, cliHome, daemonFailure, withStore } from './context.js';
import { printJson } from './output.js';
import { describeEvent } from './progress.js';

/** Call one verb on the running daemon; a clear error when none runs. */
async function verb<V extends VerbName>(name: V, input: VerbInput<V>): Promise<unknown> {
  const r = await callDaemon(cliHome(), 'POST', daemonVerbPath(name), input);
  if (!r) throw new SluiceError('DAEMON_UNAVAILABLE', 'No daemon answers; start one with `sluice daemon start`.');
  if (r.status !== 200) daemonFailure(r);
  return r.body;
}

function requireId(schema: { safeParse(v: unknown): { success: boolean } }, value: string, what: string): void {
  if (!schema.safeParse(value).success) throw new SluiceError('BAD_REQUEST', `Not ${what}: ${value}`);
}

function readTask(o: { task?: string; taskFile?: string }): string {
  if (o.task !== undefined && o.taskFile !== undefined) throw new SluiceError('BAD_REQUEST', 'Give --task or --task-file, not both.');
  if (o.task !== undefined) return o.task;
  if (o.taskFile !== undefined) return readFileSync(o.taskFile === '-' ? 0 : o.taskFile, 'utf8');
  throw new SluiceError('BAD_REQUEST', 'A task is required: --task TEXT or --task-file PATH (- for stdin).');
}

/**
 * Follow one step through the daemon's event log (long-poll `events.list`), printing state changes, validation
 * results, gates and the agent's log lines, until the step settles. Returns the settled step.
 */
export async function followStep(runId: string, stepId: string, out: (line: string) => void): Promise<StepDetail> {
  let after = 0;
  const numbers = new Map<string, number>();
  for (;;) {
    const page = (await verb('events.list', { runId, after, limit: 500, waitMs: 8_000 })) as { events: Event[]; nextCursor: number };
    after = page.nextCursor;
    let settledSeen = false;
    for (const e of page.events) {
      if (e.stepId !== stepId && e.type !== 'run.head_moved' && e.type !== 'run.aborted') continue;
      if (e.type === 'attempt.created' && e.attemptId) numbers.set(e.attemptId, Number(e.data['number']));
      if (e.type === 'step.state_changed' && SETTLED_STEP_STATES.includes(e.data['to'] as never)) settledSeen = true;
      for (const line of describeEvent(e, numbers) ?? []) out(line);
    }
    if (settledSeen || page.events.length === 0) {
      const step = (await verb('steps.get', { stepId })) as StepDetail;
      if (SETTLED_STEP_STATES.includes(step.state)) return step;
    }
  }
}

function printOutcome(step: StepDetail, out: (line: string) => void): void {
  out(`step ${step.stepId}: ${step.state}`);
  for (const a of step.attempts) {
    out(`  attempt ${a.number} ${a.attemptId} ${a.state}${a.failureCode ? ` (${a.failureCode})` : ''}${a.changedFiles !== null ? `, ${a.changedFiles} file(s) changed` : ''}`);
    if (a.summary) out(`    ${a.summary}`);
    if (a.commit) out(`    diff: sluice diff ${a.attemptId}`);
  }
  const pending = step.gates.find((g) => g.kind === 'approval' && g.status === 'pending');
  if (pending) {
    out(`waiting for approval at gate ${pending.gateId}`);
    if (pending.candidates.length > 1) out(`  approve one: sluice approve ${pending.gateId} --attempt <attemptId>   (candidates: ${pending.candidates.join(', ')})`);
    else out(`  approve: sluice approve ${pending.gateId}    reject: sluice reject ${pending.gateId} --reason "..."`);
  } else if (step.state === 'failed' || step.state === 'cancelled') {
    out(`  retry: sluice step retry ${step.stepId}`);
  }
}

/** A gate id, or the pending approval gate of a step id. */
async function resolveGate(id: string): Promise<string> {
  if (GateId.safeParse(id).success) return id;
  if (!StepId.safeParse(id).success) throw new SluiceError('BAD_REQUEST', `Not a gate or step id: ${id}`);
  const step = (await verb('steps.get', { stepId: id })) as StepDetail;
  const g = step.gates.find((x) => x.kind === 'approval' && x.status === 'pending');
  if (!g) throw new SluiceError('GATE_NOT_FOUND', 'That step has no pending approval gate.');
  return g.gateId;
}

const line = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/** Print a settled step (JSON or its outcome lines); a failed or cancelled step makes the exit code 1. */
function reportSettled(settled: StepDetail, json: boolean | undefined): void {
  if (json) printJson(settled);
  else printOutcome(settled, line);
  if (settled.state === 'failed' || settled.state === 'cancelled') process.exitCode = 1;
}

/** Execution commands: open runs, dispatch and follow steps, decide gates, cancel, abort, read diffs. */
export function registerExecCommands(program: Command): void {
  registerRunOpen(program);
  registerStepCommands(program);
  registerGateCommands(program);
  registerStopCommands(program);
  registerDiffCommand(program);
}

function registerRunOpen(program: Command): void {
  const run = program.commands.find((c) => c.name() === 'run') ?? program.command('run').description('One run');
  run
    .command('open <workspace>')
    .description('Open a run on a workspace: creates branch sluice/run/<id> from the base ref (default HEAD)')
    .option('--base <ref>', 'base branch, tag or commit')
    .option('--title <title>', 'a title for the run')
    .option('--json', 'print JSON')
    .action(async (workspaceId: string, o: { base?: string; title?: string; json?: boolean }) => {
      const r = (await verb('runs.open', { workspaceId, ...(o.base ? { baseRef: o.base } : {}), ...(o.title ? { title: o.title } : {}) })) as Run;
      if (o.json) return printJson(r);
      line(`run ${r.runId} opened on ${r.workspaceId}: branch ${r.branch} at ${r.baseCommit.slice(0, 12)} (${r.baseRef})`);
      line(`next: sluice step dispatch ${r.runId} --executor <name> --task "..."`);
    });
}

function registerStepCommands(program: Command): void {
  const step = program.command('step').description('Steps of a run');
  step
    .command('dispatch <runId>')
    .description('Queue a step (executor and validations by their configured names) and follow it until it settles')
    .requiredOption('--executor <name>', 'executor name from the workspace config')
    .option('--task <text>', 'the task text')
    .option('--task-file <path>', 'read the task from a file (- for stdin)')
    .option('--validate <name...>', 'validation names from the workspace config')
    .option('--approval', 'wait for an approval decision even if the workspace does not require one')
    .option('--attempts <n>', 'parallel attempts (1-4)')
    .option('--timeout <duration>', 'step timeout, e.g. 10m')
    .option('--key <idempotencyKey>', 'idempotency key: the same key returns the same step')
    .option('--no-follow', 'return once the step is queued')
    .option('--json', 'print the step as JSON (after it settles unless --no-follow)')
    .action(async (runId: string, o: { executor: string; task?: string; taskFile?: string; validate?: string[]; approval?: boolean; attempts?: string; timeout?: string; key?: string; follow: boolean; json?: boolean }) => {
      requireId(RunId, runId, 'a run id');
      const input: VerbInput<'steps.dispatch'> = { runId, executor: o.executor, task: readTask(o) };
      if (o.validate) input.validations = o.validate;
      if (o.approval) input.approval = true;
      if (o.attempts !== undefined) input.attempts = Number.parseInt(o.attempts, 10);
      if (o.timeout !== undefined) input.timeoutMs = parseDuration(o.timeout);
      if (o.key !== undefined) input.idempotencyKey = o.key;
      const queued = (await verb('steps.dispatch', input)) as Step;
      if (!o.follow) {
        if (o.json) return printJson(queued);
        return line(`step ${queued.stepId} queued (seq ${queued.seq}); follow with: sluice step follow ${queued.stepId}`);
      }
      if (!o.json) line(`step ${queued.stepId} (seq ${queued.seq}) queued on run ${runId}`);
      reportSettled(await followStep(runId, queued.stepId, o.json ? () => undefined : line), o.json);
    });

  step
    .command('follow <stepId>')
    .description('Follow a step (state changes, validations, gates, agent log lines) until it settles')
    .option('--json', 'print the settled step as JSON')
    .action(async (stepId: string, o: { json?: boolean }) => {
      requireId(StepId, stepId, 'a step id');
      const s = (await verb('steps.get', { stepId })) as StepDetail;
      reportSettled(await followStep(s.runId, stepId, o.json ? () => undefined : line), o.json);
    });

  step
    .command('retry <stepId>')
    .description('New attempts of a failed, cancelled or interrupted step, from the run branch head; follows them')
    .option('--no-follow', 'return once queued')
    .option('--json', 'print JSON')
    .action(async (stepId: string, o: { follow: boolean; json?: boolean }) => {
      requireId(StepId, stepId, 'a step id');
      const s = (await verb('steps.retry', { stepId })) as Step;
      if (!o.follow) return o.json ? printJson(s) : line(`step ${s.stepId} queued again`);
      reportSettled(await followStep(s.runId, stepId, o.json ? () => undefined : line), o.json);
    });
}

function registerGateCommands(program: Command): void {
  program
    .command('approve <gateOrStepId>')
    .description('Approve a pending approval gate (or the pending gate of a step): the run branch fast-forwards to the accepted attempt')
    .option('--attempt <attemptId>', 'which attempt to accept when several passed')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { attempt?: string; reason?: string; json?: boolean }) => {
      const gateId = await resolveGate(id);
      if (o.attempt !== undefined) requireId(AttemptId, o.attempt, 'an attempt id');
      const g = (await verb('gates.approve', { gateId, ...(o.attempt ? { attemptId: o.attempt } : {}), ...(o.reason ? { reason: o.reason } : {}) })) as Gate;
      if (o.json) return printJson(g);
      line(`gate ${g.gateId} approved: attempt ${g.acceptedAttemptId ?? '?'} accepted, the run branch moved to it`);
    });

  program
    .command('reject <gateOrStepId>')
    .description('Reject a pending approval gate with a reason; the run branch does not move')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { reason: string; json?: boolean }) => {
      const gateId = await resolveGate(id);
      const g = (await verb('gates.reject', { gateId, reason: o.reason })) as Gate;
      if (o.json) return printJson(g);
      line(`gate ${g.gateId} rejected; the run branch did not move`);
    });
}

function registerStopCommands(program: Command): void {
  program
    .command('cancel <attemptId>')
    .description('Cancel an attempt: SIGTERM to its process group, SIGKILL after the grace period; returns once it exited')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (attemptId: string, o: { reason?: string; json?: boolean }) => {
      requireId(AttemptId, attemptId, 'an attempt id');
      const r = (await verb('attempts.cancel', { attemptId, ...(o.reason ? { reason: o.reason } : {}) })) as { attempt: { state: string }; alreadyFinished: boolean };
      if (o.json) return printJson(r);
      line(r.alreadyFinished ? `attempt ${attemptId} had already finished (${r.attempt.state}); nothing changed` : `attempt ${attemptId} ${r.attempt.state}`);
    });

  program
    .command('abort <runId>')
    .description('Abort a run: cancel its live attempts (after their processes exit) and refuse new steps')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (runId: string, o: { reason?: string; json?: boolean }) => {
      requireId(RunId, runId, 'a run id');
      const r = (await verb('runs.abort', { runId, ...(o.reason ? { reason: o.reason } : {}) })) as Run;
      if (o.json) return printJson(r);
      line(`run ${r.runId} ${r.state}; its branch ${r.branch} is kept at ${r.headCommit.slice(0, 12)}`);
    });
}

function registerDiffCommand(program: Command): void {
  program
    .command('diff <attemptId>')
    .description("Print an attempt's diff against its base (from the ledger; works without a running daemon)")
    .option('--stat', 'print the changed-file list instead')
    .action(async (attemptId: string, o: { stat?: boolean }) => {
      requireId(AttemptId, attemptId, 'an attempt id');
      await withStore(async (store, home) => {
        const detail = store.getAttemptDetail(attemptId);
        if (!detail) throw new SluiceError('ATTEMPT_NOT_FOUND');
        const ref = detail.artifacts.find((r) => r.kind === (o.stat ? 'changed-files' : 'diff'));
        if (!ref) throw new SluiceError('ARTIFACT_NOT_FOUND', `attempt ${attemptId} (${detail.state}) has no ${o.stat ? 'changed-file list' : 'diff'} yet`);
        const stream = await new ArtifactStore(home.artifacts).createReadStream(ref.digest);
        for await (const chunk of stream) process.stdout.write(chunk as Buffer);
      });
    });
}
