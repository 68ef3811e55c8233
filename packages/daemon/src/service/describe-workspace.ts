import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { LIMITS, type ExecutorDescription, type ValidationDescription, type WorkspaceDescription } from '@sluice/shared-protocol';
import { commandPolicyKind, type ExecutorConfig } from '../config/executor-config.js';
import type { ValidationConfig, WorkspaceConfig } from '../config/schema.js';
import { ExecutorError, getAdapter, preflightExecutor } from '../executors/index.js';
import { SIMULATION_LANGUAGE } from '../executors/simulation-language.js';
import { buildChildEnv } from '../process/index.js';

const AGENT_TASK =
  'Plain English, as you would brief a developer: what to change, where, and how to check it. The agent works in a fresh worktree of the run branch; whatever it changes is committed on its attempt branch and reviewed as a diff.';

/** What the task text is to each adapter. */
const TASK_TEXT: Readonly<Record<ExecutorConfig['adapter'], string>> = {
  simulation: SIMULATION_LANGUAGE,
  command: "The operator's own program reads the task text on stdin (and from the file named by SLUICE_TASK_FILE); what it makes of it is that program's, see the description.",
  'claude-code': `${AGENT_TASK} (Claude Code)`,
  codex: `${AGENT_TASK} (Codex)`,
  aider: `${AGENT_TASK} (aider)`,
  gemini: `${AGENT_TASK} (Gemini CLI)`,
};

/** Preflight failure codes as readiness statuses. */
const READINESS: Readonly<Record<string, string>> = {
  EXECUTOR_NOT_FOUND: 'not_found',
  EXECUTOR_TOO_OLD: 'too_old',
  EXECUTOR_VERSION_UNKNOWN: 'version_unknown',
  EXECUTOR_MISCONFIGURED: 'misconfigured',
};

/** The preflight of an attempt, run now; its message names the program without the folder it was looked for in. */
async function readiness(entry: ExecutorConfig): Promise<ExecutorDescription['preflight']> {
  const adapter = getAdapter(entry.adapter);
  try {
    const found = await preflightExecutor(adapter, entry, buildChildEnv(entry.env ?? []), tmpdir());
    return { status: 'ready', message: null, version: found.version };
  } catch (err) {
    if (!(err instanceof ExecutorError)) throw err;
    const program = entry.argv?.[0] ?? entry.binary ?? adapter.defaultBinary;
    const message = program ? err.message.split(program).join(basename(program)) : err.message;
    return { status: READINESS[err.code] ?? 'unavailable', message: message.slice(0, 1000), version: null };
  }
}

async function describeExecutor(name: string, entry: ExecutorConfig): Promise<ExecutorDescription> {
  const commands = entry.policy.commands;
  return {
    name,
    adapter: entry.adapter,
    description: entry.description ?? null,
    task: TASK_TEXT[entry.adapter],
    timeout: { defaultMs: entry.timeout ?? LIMITS.stepTimeoutMs.default, maxMs: LIMITS.stepTimeoutMs.max },
    commands: { kind: commandPolicyKind(commands), prefixes: commands === 'any' ? [] : [...commands] },
    preflight: await readiness(entry),
  };
}

function describeValidation(name: string, v: ValidationConfig): ValidationDescription {
  return { name, description: v.description ?? null, timeoutMs: v.timeout, ...(v.showArgv ? { argv: [...v.argv] } : {}) };
}

/** A shared workspace as `workspaces.describe` tells it: never its path, and argv only where the operator opted in. */
export async function describeWorkspace(workspaceId: string, ws: WorkspaceConfig): Promise<WorkspaceDescription> {
  const executors = await Promise.all(Object.entries(ws.executors).map(([n, e]) => describeExecutor(n, e)));
  const always = ws.approval.policy === 'always';
  return {
    workspaceId,
    name: ws.name,
    executors,
    validations: Object.entries(ws.validations).map(([n, v]) => describeValidation(n, v)),
    approval: {
      policy: ws.approval.policy,
      remote: ws.approval.remote,
      note:
        (always ? 'Every step waits at an approval gate, whatever steps.dispatch asks (approval: false is overridden).' : 'A step waits at an approval gate only when steps.dispatch asks approval: true.') +
        (ws.approval.remote ? ' Planners may decide gates (gates.approve, gates.reject).' : ' Only a local operator decides gates here; gates.approve answers REMOTE_APPROVAL_DISABLED.'),
    },
    attempts: {
      maxPerStep: LIMITS.attempts,
      concurrency: ws.concurrency,
      note: `A step may ask 1-${LIMITS.attempts} parallel attempts, each in its own worktree; at most ${ws.concurrency} attempts of this workspace run at once, the others wait queued.`,
    },
    steps: { order: 'sequential', note: 'Steps of one run execute one at a time in dispatch order: a step starts once every earlier step of the run has finished (succeeded, failed or cancelled); one awaiting approval holds the steps after it.' },
    stepTimeout: {
      defaultMs: LIMITS.stepTimeoutMs.default,
      maxMs: LIMITS.stepTimeoutMs.max,
      coversValidations: false,
      note: "steps.dispatch timeoutMs (default: the executor's timeout, else 30 min) bounds the executor's run only; each validation has its own timeout.",
    },
  };
}
