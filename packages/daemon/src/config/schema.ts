import * as z from 'zod';
import { ApprovalPolicy, Name, Registration } from '@sluice/shared-protocol';
import { ByteSize } from './byte-size.js';
import { Duration } from './duration.js';
import { ChildPolicy, EnvNames, ExecutorConfig } from './executor-config.js';
import { DependencyDirs, SandboxMode } from '../sandbox/policy.js';

/**
 * A named validation: an argv array (never a shell string), a timeout and env pass-through. `runsWorktreeCode`:
 * whether it runs anything an executor can write (`npm test`, `node test.js`, a Makefile...); assumed unless the
 * operator says otherwise. `description` and, with `showArgv`, the argv are what `workspaces.describe` tells planners.
 */
export const ValidationConfig = z.strictObject({
  argv: z.array(z.string().min(1).max(4096)).min(1).max(64),
  /** For planners: what the validation checks, in the operator's words. */
  description: z.string().min(1).max(2000).optional(),
  /** Show the argv to planners in `workspaces.describe` (hidden by default: it can name local paths). */
  showArgv: z.boolean().default(false),
  timeout: Duration.default(600_000),
  env: EnvNames.default([]),
  runsWorktreeCode: z.boolean().default(true),
  policy: ChildPolicy,
}).superRefine((v, ctx) => {
  if (v.policy.commands === 'any' || v.policy.commands.length > 0) ctx.addIssue({ code: 'custom', path: ['policy', 'commands'], message: 'a validation runs its argv; "commands" is for executors' });
});
export type ValidationConfig = z.infer<typeof ValidationConfig>;

/**
 * One program (argv, never a shell) run in each fresh worktree before the executor, such as `npm ci`: inside the
 * sandbox with the network its policy allows. A failure fails the attempt `SETUP_FAILED`.
 */
export const SetupConfig = z.strictObject({
  argv: z.array(z.string().min(1).max(4096)).min(1).max(64),
  timeout: Duration.default(600_000),
  env: EnvNames.default([]),
  policy: ChildPolicy,
});
export type SetupConfig = z.infer<typeof SetupConfig>;

const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), 'must be an absolute canonical path');

/**
 * The simulation executor writes whatever the task says, so a validation that runs worktree code runs code of the
 * caller's choosing, as the operator, before any approval. Only an explicit opt-in allows the two together.
 */
function refuseSimulationWithCodeValidations(ws: { executors: Record<string, ExecutorConfig>; validations: Record<string, ValidationConfig>; allowSimulationWithValidations: boolean }, ctx: z.RefinementCtx): void {
  if (ws.allowSimulationWithValidations) return;
  const sims = Object.entries(ws.executors).filter(([, e]) => e.adapter === 'simulation').map(([n]) => `"${n}"`);
  const running = Object.entries(ws.validations).filter(([, v]) => v.runsWorktreeCode).map(([n]) => `"${n}"`);
  if (sims.length === 0 || running.length === 0) return;
  ctx.addIssue({
    code: 'custom',
    path: ['allowSimulationWithValidations'],
    message:
      `the simulation executor ${sims.join(', ')} lets anyone with runs:write write any file of the worktree, and validation ${running.join(', ')} then runs it as you before any approval. ` +
      'To accept that, add "allowSimulationWithValidations": true to this workspace; or mark each validation that runs no worktree code with "runsWorktreeCode": false; or remove the simulation executor',
  });
}

/** One registered workspace. */
export const WorkspaceConfig = z
  .strictObject({
    path: AbsolutePath,
    name: z.string().min(1).max(200),
    executors: z.record(Name, ExecutorConfig).default({}),
    validations: z.record(Name, ValidationConfig).default({}),
    allowSimulationWithValidations: z.boolean().default(false),
    approval: z.strictObject({ policy: ApprovalPolicy.default('none'), remote: z.boolean().default(false) }).default({ policy: 'none', remote: false }),
    concurrency: z.number().int().min(1).max(64).default(2),
    worktreeRoot: AbsolutePath.nullable().default(null),
    keepWorktrees: z.boolean().default(false),
    /** Every executor, validation and setup process runs confined (docs/SANDBOX.md) unless this says "off". */
    sandbox: SandboxMode,
    setup: SetupConfig.nullable().default(null),
    /** Worktree folders bound read-only from the repository's own checkout (`node_modules`, `.venv`). */
    deps: DependencyDirs,
    /** Set by `workspace add`; a share names it, so a re-added or replaced workspace is not shared by an old share. */
    registration: Registration.nullable().default(null),
  })
  .superRefine(refuseSimulationWithCodeValidations);
export type WorkspaceConfig = z.infer<typeof WorkspaceConfig>;

const ARTIFACTS_DEFAULTS = { diffLimit: 16 * 1024 ** 2, attemptLimit: 64 * 1024 ** 2, retention: 30 * 86_400_000 };

/** Per-attempt artifact caps and the retention of settled attempts' artifacts, worktrees and branches. */
export const ArtifactsConfig = z.strictObject({
  /** The reviewed diff of one attempt; beyond it the attempt fails `DIFF_TOO_LARGE`. */
  diffLimit: ByteSize.default(ARTIFACTS_DEFAULTS.diffLimit),
  /** Everything one attempt stores (task, diff, outputs, validation outputs); beyond it `ARTIFACT_LIMIT_EXCEEDED`. */
  attemptLimit: ByteSize.default(ARTIFACTS_DEFAULTS.attemptLimit),
  /** `sluice gc` deletes what attempts that ended longer ago than this left behind. */
  retention: Duration.default(ARTIFACTS_DEFAULTS.retention),
});
export type ArtifactsConfig = z.infer<typeof ArtifactsConfig>;

/** The whole `config.json`. */
export const DaemonConfig = z.strictObject({
  listen: z
    .strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(7433) })
    .default({ host: '127.0.0.1', port: 7433 }),
  concurrency: z.number().int().min(1).max(64).default(4),
  cancelGrace: Duration.default(5000),
  /** How long the first SIGTERM lets running attempts finish before they are cancelled. */
  drainTimeout: Duration.default(600_000),
  artifacts: ArtifactsConfig.default(ARTIFACTS_DEFAULTS),
  workspaces: z.record(Name, WorkspaceConfig).default({}),
});
export type DaemonConfig = z.infer<typeof DaemonConfig>;

/** The config as written to disk (durations as text). */
export type DaemonConfigInput = z.input<typeof DaemonConfig>;
