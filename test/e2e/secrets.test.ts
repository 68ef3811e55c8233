import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef, Event, Gate, StepDetail } from '@sluice/shared-protocol';
import { followEvents, git, HttpPlanner, PlannerError, startStack } from '../helpers/index.mjs';
import type { Planner, Stack } from '../helpers/index.mjs';

// Built at run time: no file of the repository holds a credential.
const KEY = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const TOKEN = `slc_${'pat'}_${'Zq8'.repeat(12)}Ab`;
const SETTLED = ['awaiting_approval', 'succeeded', 'failed', 'cancelled'];

let stack: Stack;
let planner: Planner;

beforeAll(async () => {
  // Auto-accept (approval policy none), remote approval allowed: only the secrets can stop the acceptance.
  stack = await startStack({ approval: { policy: 'none', remote: true } });
  planner = await new HttpPlanner(stack.relay.url!, stack.org.plannerToken).connect();
}, 60_000);

afterAll(async () => {
  await planner?.close();
  const results = await stack?.stop();
  for (const [name, r] of Object.entries(results ?? {})) expect(r?.clean, `${name} stopped cleanly`).toBe(true);
}, 60_000);

async function settled(runId: string, stepId: string): Promise<StepDetail> {
  await followEvents(planner, {
    runId,
    after: 0,
    timeoutMs: 20_000,
    until: (e: Event) => e.type === 'step.state_changed' && e.stepId === stepId && SETTLED.includes(String(e.data['to'])),
  });
  return planner.call('steps.get', { stepId });
}

async function refusal(p: Promise<unknown>): Promise<PlannerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlannerError);
  return err as PlannerError;
}

async function allEvents(runId: string): Promise<Event[]> {
  const out: Event[] = [];
  for (let after = 0; ; ) {
    const page = await planner.call('events.list', { runId, after, limit: 200 });
    out.push(...page.events);
    if (page.events.length === 0) return out;
    after = page.nextCursor;
  }
}

async function sluice(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return stack.daemon.cli(args);
}

describe('secrets never leave the machine by a remote answer', () => {
  it('withholds a key in the diff, a token in the log and the summary, and holds the attempt for a local decision', async () => {
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'leak a key' });
    // The key reaches the worktree as base64 (as if the agent copied ~/.ssh/id_ed25519), the token is printed.
    const task = [
      'Copy the key into notes.txt and print the token.',
      `write-base64 notes.txt\n<<<\n${Buffer.from(KEY).toString('base64')}\n>>>`,
      `log connecting with ${TOKEN}`,
      `summary done; the token is ${TOKEN}`,
    ].join('\n');
    const step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task });
    const detail = await settled(run.runId, step.stepId);

    // Auto-accept did not merge it: it waits for a decision at a secret-review gate; the branch did not move.
    expect(detail.state).toBe('awaiting_approval');
    const attempt = detail.attempts[0]!;
    expect(attempt.state).toBe('awaiting_approval');
    expect(await git(stack.repo.path, ['rev-parse', run.branch])).toBe(stack.repo.head);
    const gate = ((await planner.call('gates.list', { runId: run.runId, status: 'pending' })).gates as Gate[])[0]!;
    expect(gate.rule).toContain('secret review');

    // The summary is redacted in every answer that carries it.
    expect(attempt.summary).toBe('done; the token is [withheld: Sluice token]');
    expect(JSON.stringify(await planner.call('attempts.get', { attemptId: attempt.attemptId }))).not.toContain(TOKEN);

    // The diff is withheld whole, with a code and the command that releases it.
    const refs = (await planner.call('artifacts.list', { runId: run.runId, attemptId: attempt.attemptId })).artifacts as ArtifactRef[];
    const diff = refs.find((a) => a.kind === 'diff')!;
    const withheld = await refusal(planner.call('artifacts.get', { runId: run.runId, digest: diff.digest }));
    expect(withheld.code).toBe('ARTIFACT_WITHHELD');
    expect(withheld.message).toContain('private key');
    expect(withheld.message).toContain(`sluice artifact release ${diff.artifactId}`);
    expect(withheld.message).not.toContain('BEGIN');

    // The log line is redacted; the attempt is marked, naming the rules and never the secret.
    const events = await allEvents(run.runId);
    const text = JSON.stringify(events);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(KEY.split('\n')[1]);
    const logLines = events.filter((e) => e.type === 'attempt.log').flatMap((e) => (e.data['lines'] as { text: string }[]).map((l) => l.text));
    expect(logLines).toContain('[sim] connecting with [withheld: Sluice token]');
    const marks = events.filter((e) => e.type === 'attempt.secret_detected');
    expect(marks.map((e) => [e.data['subject'], e.data['name'] ?? null])).toEqual(expect.arrayContaining([['artifact', 'diff.patch'], ['event', null], ['summary', null]]));
    expect(marks.find((e) => e.data['name'] === 'diff.patch')!.data['rules']).toEqual(['private-key']);

    // The remote approval is refused; the local operator still reads everything.
    const approve = await refusal(planner.call('gates.approve', { gateId: gate.gateId }));
    expect(approve.code).toBe('SECRET_REVIEW_REQUIRED');
    const local = await sluice(['events', '--run', run.runId, '--json']);
    expect(local.stdout).toContain(TOKEN);

    // The operator releases the diff with the CLI; the relay read returns it, and the release is audited.
    const show = await sluice(['artifact', 'show', diff.artifactId]);
    expect(show.stdout).toContain('private-key (withheld from remote reads)');
    const released = await sluice(['artifact', 'release', diff.artifactId, '--reason', 'a throwaway test key']);
    expect(released.stderr).toBe('');
    expect(released.code).toBe(0);
    expect(released.stdout).toContain(`artifact ${diff.artifactId} released (private-key)`);
    const read = await planner.call('artifacts.get', { runId: run.runId, digest: diff.digest });
    expect(read.content).toContain(KEY.split('\n')[1]);
    const audit = await sluice(['audit', 'verify']);
    expect(audit.stdout).toContain('audit chain ok');
    expect((await sluice(['artifact', 'release', diff.artifactId])).stdout).toContain('already released');

    // The token still stands in the log, summary and task: only a local decision accepts the attempt.
    expect((await refusal(planner.call('gates.approve', { gateId: gate.gateId }))).code).toBe('SECRET_REVIEW_REQUIRED');
    const approved = await sluice(['approve', gate.gateId]);
    expect(approved.code).toBe(0);
    const after = (await planner.call('steps.get', { stepId: step.stepId })) as StepDetail;
    expect(after.state).toBe('succeeded');
    expect(await git(stack.repo.path, ['rev-parse', run.branch])).toBe(after.attempts[0]!.commit);

    // The run's own diff now holds the key too: a run-level artifact, scanned as it is stored, withheld on its own.
    const runDiff = (await planner.call('runs.diff', { runId: run.runId })) as { diff: ArtifactRef | null };
    expect(runDiff.diff).not.toBeNull();
    expect((await refusal(planner.call('artifacts.get', { runId: run.runId, digest: runDiff.diff!.digest }))).code).toBe('ARTIFACT_WITHHELD');
  });

  it('lets a remote approval through once every withheld artifact is released', async () => {
    const run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title: 'key only in the diff' });
    const step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: `write-base64 id_test\n<<<\n${Buffer.from(KEY).toString('base64')}\n>>>` });
    const detail = await settled(run.runId, step.stepId);
    expect(detail.state).toBe('awaiting_approval');
    const gate = ((await planner.call('gates.list', { runId: run.runId, status: 'pending' })).gates as Gate[])[0]!;
    expect((await refusal(planner.call('gates.approve', { gateId: gate.gateId }))).code).toBe('SECRET_REVIEW_REQUIRED');
    const refs = (await planner.call('artifacts.list', { runId: run.runId })).artifacts as ArtifactRef[];
    const marked = (await allEvents(run.runId)).filter((e) => e.type === 'attempt.secret_detected');
    expect(marked.map((e) => e.data['subject'])).toEqual(['artifact']);
    const id = String(marked[0]!.data['subjectId']);
    expect(refs.find((r) => r.artifactId === id)!.kind).toBe('diff');
    expect((await sluice(['artifact', 'release', id])).code).toBe(0);
    const decided = (await planner.call('gates.approve', { gateId: gate.gateId })) as Gate;
    expect(decided.status).toBe('approved');
  });
});
