// A planner that knows nothing of Sluice but its MCP URL, a token and the job ("the workspace's tests fail; get
// them fixed and accepted onto the run branch, then confirm the diff and the test output"). It follows only what
// the tools return: tool names and descriptions, the executor description, error codes and their `allowed` values.
// With SLUICE_PLANNER_TRANSCRIPT=write it rewrites the transcript in docs/PLANNERS.md; the doc is always checked
// for the same call sequence.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FIXED_MATH, LONG_TASK, git, startStack } from '../helpers/index.mjs';
import type { Stack } from '../helpers/index.mjs';

const MAX_CALLS = 12;
const PLANNERS_MD = fileURLToPath(new URL('../../docs/PLANNERS.md', import.meta.url));
const START = '<!-- transcript:start -->';
const END = '<!-- transcript:end -->';

type Json = Record<string, unknown>;
interface ToolError {
  code: string;
  message: string;
  allowed?: string[];
  hint?: string;
}
type Outcome = { ok: true; value: Json } | { ok: false; error: ToolError };
interface Entry {
  tool: string;
  args: Json | null;
  shown: unknown;
  failed: boolean;
}

/** The error of a failed tool result: structured content when the server gives it, else the JSON text block. */
function errorOf(result: { content?: unknown; structuredContent?: unknown }): ToolError {
  const sc = result.structuredContent as Partial<ToolError> | undefined;
  if (sc && typeof sc.code === 'string') return sc as ToolError;
  const texts = ((result.content ?? []) as { type: string; text?: string }[]).filter((c) => c.type === 'text').map((c) => c.text ?? '');
  for (const t of texts) {
    try {
      const body = JSON.parse(t) as Partial<ToolError>;
      if (body && typeof body.code === 'string') return body as ToolError;
    } catch {
      // prose
    }
  }
  return { code: 'UNKNOWN', message: texts.join('\n') };
}

/** A value cut down for the transcript: long strings and lists shortened. */
function brief(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'string' && v.length > 1200) return `${v.slice(0, 1200)}…`;
      if (Array.isArray(v) && v.length > 6) return [...v.slice(0, 6), `… ${v.length - 6} more`];
      return v;
    }),
  );
}

/** An MCP client that counts and records every request it makes. */
class CountingPlanner {
  readonly entries: Entry[] = [];
  private client!: Client;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async connect(): Promise<this> {
    const transport = new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${this.token}` } } });
    this.client = new Client({ name: 'scripted-planner', version: '1.0.0' });
    await this.client.connect(transport);
    return this;
  }

  async listTools(): Promise<{ name: string; description?: string | undefined }[]> {
    const { tools } = await this.client.listTools();
    this.entries.push({ tool: 'tools/list', args: null, shown: tools.map((t) => t.name), failed: false });
    return tools;
  }

  async call(tool: string, args: Json): Promise<Outcome> {
    const result = await this.client.callTool({ name: tool, arguments: args }, undefined, { timeout: 60_000 });
    if (result.isError) {
      const error = errorOf(result as { content?: unknown; structuredContent?: unknown });
      this.entries.push({ tool, args, shown: error, failed: true });
      return { ok: false, error };
    }
    const value = result.structuredContent as Json;
    this.entries.push({ tool, args, shown: brief(value), failed: false });
    return { ok: true, value };
  }

  /** A call the plan cannot go on without. */
  async must(tool: string, args: Json): Promise<Json> {
    const out = await this.call(tool, args);
    if (!out.ok) throw new Error(`${tool} failed: ${out.error.code}: ${out.error.message}`);
    return out.value;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * A task for an executor whose description teaches a line language by example: the example's file directive
 * (the line before the block opener), its block delimiters and its summary directive, reused for this file.
 */
function taskFromExample(description: string, goal: string, path: string, content: string, summary: string): string {
  const fenced = /```\n([\s\S]*?)\n```/.exec(description);
  if (!fenced) throw new Error(`the executor description has no example: ${description}`);
  const lines = fenced[1]!.split('\n');
  const open = lines.findIndex((l, i) => i > 0 && /^[^\w\s]+$/.test(l));
  if (open < 1) throw new Error('the example has no block');
  const close = lines.findIndex((l, i) => i > open && /^[^\w\s]+$/.test(l));
  const fileVerb = lines[open - 1]!.split(' ')[0]!;
  const summaryLine = lines.slice(close + 1).find((l) => /^\w+ /.test(l));
  const summaryVerb = summaryLine ? summaryLine.split(' ')[0] : null;
  return [goal, `${fileVerb} ${path}`, lines[open]!, content.replace(/\n$/, ''), lines[close]!, ...(summaryVerb ? [`${summaryVerb} ${summary}`] : [])].join('\n');
}

function transcriptMarkdown(entries: readonly Entry[]): string {
  const parts = entries.map((e, i) => {
    const head = `### ${i + 1}. \`${e.tool}\`${e.failed ? ' (refused)' : ''}`;
    const args = e.args === null ? '' : `\n\narguments:\n\n\`\`\`json\n${JSON.stringify(brief(e.args), null, 2)}\n\`\`\``;
    return `${head}${args}\n\n${e.failed ? 'error' : 'result'}:\n\n\`\`\`json\n${JSON.stringify(e.shown, null, 2)}\n\`\`\``;
  });
  return parts.join('\n\n');
}

function documentedSequence(doc: string): string[] {
  const section = doc.slice(doc.indexOf(START), doc.indexOf(END));
  return [...section.matchAll(/^### \d+\. `([^`]+)`/gm)].map((m) => m[1]!);
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ approval: { policy: 'always', remote: true }, described: true });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('a scripted planner following only what the tools say', () => {
  it(`fixes the failing test, gets it accepted, confirms diff and test output, in at most ${MAX_CALLS} calls`, async () => {
    const p = await new CountingPlanner(stack.relay.url!, stack.org.plannerToken).connect();
    try {
      // 1. What can be done here?
      const tools = await p.listTools();
      const byName = new Map(tools.map((t) => [t.name, t]));
      for (const name of ['instances_list', 'workspaces_describe', 'runs_open', 'steps_dispatch', 'steps_wait', 'gates_approve', 'runs_diff', 'artifacts_get', 'runs_close']) {
        expect(byName.has(name), name).toBe(true);
      }
      // The dispatch tool says where to learn what an executor takes.
      expect(byName.get('steps_dispatch')!.description).toContain('workspaces_describe');

      // 2-3. Where, and what does its executor take?
      const { instances } = (await p.must('instances_list', {})) as { instances: { workspaces: { workspaceId: string }[] }[] };
      const workspaceId = instances[0]!.workspaces[0]!.workspaceId;
      const ws = (await p.must('workspaces_describe', { workspaceId })) as {
        executors: { name: string; task: string; preflight: { status: string } }[];
        validations: { name: string; description: string | null }[];
        approval: { policy: string; remote: boolean };
      };
      const ready = ws.executors.filter((e) => e.preflight.status === 'ready');
      expect(ready.length).toBeGreaterThan(0);
      const testValidation = ws.validations.find((v) => /test/i.test(`${v.name} ${v.description ?? ''}`))!;

      // 4. A run.
      const run = await p.must('runs_open', { workspaceId, title: 'fix the failing test' });
      const runId = run.runId as string;

      // 5. A guess at the executor name, corrected from the refusal.
      const guess = await p.call('steps_dispatch', { runId, executor: 'claude-code', task: 'Fix add() in src/math.js.' });
      expect(guess.ok).toBe(false);
      const refused = (guess as { error: ToolError }).error;
      expect(refused.code).toBe('EXECUTOR_NOT_ALLOWED');
      expect(refused.allowed?.length).toBeGreaterThan(0);
      const executor = ready.find((e) => refused.allowed!.includes(e.name))!;
      expect(executor).toBeDefined();

      // 6. The task written the way the executor description says.
      const task = taskFromExample(executor.task, 'Fix add() in src/math.js so that the tests pass.', 'src/math.js', FIXED_MATH, 'add() now adds');
      const step = await p.must('steps_dispatch', { runId, executor: executor.name, task, validations: [testValidation.name], idempotencyKey: 'fix-add' });
      const stepId = step.stepId as string;

      // 7. Wait until it settles (a second wait only if the first ran out).
      let waited = await p.must('steps_wait', { stepId, timeoutMs: 30_000 });
      if (waited.settled !== true) waited = await p.must('steps_wait', { stepId, timeoutMs: 30_000 });
      expect(waited.state).toBe('awaiting_approval');
      const results = waited.validationResults as { name: string; passed: boolean; stdoutDigest: string | null }[];
      expect(results.map((r) => [r.name, r.passed])).toEqual([[testValidation.name, true]]);
      const gate = (waited.gates as { gateId: string; kind: string; status: string }[]).find((g) => g.kind === 'approval' && g.status === 'pending')!;

      // 8. Approve: the run branch moves to the attempt.
      const approved = await p.must('gates_approve', { gateId: gate.gateId, reason: 'the test passes' });
      expect(approved.status).toBe('approved');

      // 9. What the operator would merge.
      const diff = (await p.must('runs_diff', { runId })) as { branchMoved: boolean; files: { path: string }[]; changes: { files: number }; diff: { digest: string } | null };
      expect(diff.branchMoved).toBe(true);
      expect(diff.files.map((f) => f.path)).toEqual(['src/math.js']);
      expect(diff.diff).not.toBeNull();

      // 10. The test output of the accepted attempt.
      const output = await p.must('artifacts_get', { runId, digest: results[0]!.stdoutDigest });
      expect(output.content).toContain('ok: add works');

      // 11. Done: close the run; the operator merges the branch.
      const closed = await p.must('runs_close', { runId });
      expect(closed.state).toBe('completed');

      expect(p.entries.length).toBeLessThanOrEqual(MAX_CALLS);
      expect(await git(stack.repo.path, ['show', `${run.branch as string}:src/math.js`])).toBe(FIXED_MATH.trim());

      const transcript = transcriptMarkdown(p.entries);
      if (process.env.SLUICE_PLANNER_TRANSCRIPT === 'write') {
        const doc = readFileSync(PLANNERS_MD, 'utf8');
        writeFileSync(PLANNERS_MD, `${doc.slice(0, doc.indexOf(START) + START.length)}\n${transcript}\n${doc.slice(doc.indexOf(END))}`);
      }
      expect(documentedSequence(readFileSync(PLANNERS_MD, 'utf8'))).toEqual(p.entries.map((e) => e.tool));
    } finally {
      await p.close();
    }
  }, 120_000);

  it('steps_cancel stops a step through the relay; a replayed dispatch then answers it as it is now', async () => {
    const p = await new CountingPlanner(stack.relay.url!, stack.org.plannerToken).connect();
    try {
      const run = await p.must('runs_open', { workspaceId: stack.workspaceId, title: 'cancel me' });
      const input = { runId: run.runId, executor: 'simulation', task: LONG_TASK, idempotencyKey: 'long' };
      const step = await p.must('steps_dispatch', input);
      expect(step.replayed).toBeUndefined();
      const cancelled = await p.must('steps_cancel', { stepId: step.stepId, reason: 'changed the plan' });
      expect(cancelled.state).toBe('cancelled');
      expect((cancelled.attempts as { decisionReason: string }[]).map((a) => a.decisionReason)).toEqual(['changed the plan']);
      expect((await p.must('steps_cancel', { stepId: step.stepId })).state).toBe('cancelled');
      const replayed = await p.must('steps_dispatch', input);
      expect(replayed).toMatchObject({ stepId: step.stepId, state: 'cancelled', replayed: true });
    } finally {
      await p.close();
    }
  }, 60_000);
});
