import { VERBS } from './verbs.js';
import type { VerbSpec } from './verbs.js';

const LIFECYCLE = [
  '1. `instances_list`: pick an online instance and one of its workspaces; note its executor and validation names and',
  "   read each executor's `task` description: the task text goes to the executor exactly as you write it.",
  '2. `runs_open` on the workspace: the run gets its own branch `sluice/run/<runId>` from the base ref.',
  '3. `steps_dispatch` with an executor, a task, validations and (if you want to review) `approval: true`. Steps of a',
  '   run execute one at a time, in order, each from the run branch head.',
  '4. `steps_wait` until `settled` is true (repeat it: each call waits at most 30 s), or follow `events_list` with',
  '   `waitMs`, passing back `nextCursor` as `after`.',
  '5. Read the outcome: `steps_get` (attempts, validation results), `attempts_get` and `artifacts_get` (logs, diffs).',
  '6. A step awaiting approval has a pending gate: `gates_list`, then `gates_approve` (naming `attemptId` when several',
  '   attempts passed) or `gates_reject` with a reason. Approving moves the run branch to the accepted attempt.',
  '7. `runs_close` when done: the operator reviews and merges the run branch. `runs_abort` gives up on a run.',
];

const ERRORS = [
  'A refused call is a tool result with `isError: true`. Its text is a JSON object `{code, message, hint, retryable}`',
  'and, where they apply, `allowed` (the values the refused field may take), `retryAfterMs` and `details` (field',
  'problems of INVALID_INPUT). Do what `hint` says; pick from `allowed`; retry unchanged only when `retryable` is true,',
  'after `retryAfterMs`.',
];

function firstSentence(text: string): string {
  const end = text.indexOf('. ');
  return end === -1 ? text : text.slice(0, end + 1);
}

/**
 * The planner guide, generated from the verb table so it cannot name a tool that does not exist. The relay serves it
 * as an MCP resource and prompt; docs/RELAY.md contains exactly this text (a test checks).
 */
export function renderPlannerGuide(): string {
  const tools = (Object.values(VERBS) as VerbSpec[]).map((v) => `- \`${v.mcpName}\` (scope \`${v.scope}\`): ${firstSentence(v.description)}`);
  return ['#### The run lifecycle', '', ...LIFECYCLE, '', '#### Errors', '', ...ERRORS, '', '#### Tools', '', ...tools].join('\n');
}
