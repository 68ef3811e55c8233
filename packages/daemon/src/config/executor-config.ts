import * as z from 'zod';
import { Duration } from './duration.js';
import { FilesystemPolicy, HomeEntries, LimitsPolicy, NetworkPolicy } from '../sandbox/policy.js';

/** Executor adapters the daemon knows. */
export const ADAPTERS = ['simulation', 'command', 'claude-code', 'codex', 'aider', 'gemini'] as const;

/**
 * Names of environment variables passed through to a child. `HOME` is set by Sluice (see `ChildPolicy`) and
 * `SLUICE_*` names are the daemon's own (they would lead a child to its home), so neither can be passed.
 */
export const EnvNames = z
  .array(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')
      .refine((n) => n !== 'HOME', 'HOME is set by Sluice: give the child your HOME with "policy": { "home": { "passThrough": true } }')
      .refine((n) => !n.startsWith('SLUICE_'), 'SLUICE_* variables are the daemon\'s own and are never passed to a child'),
  )
  .max(64);

/** A command prefix an agent may run (`npm test`, `npm run lint`): words, no shell operators. */
const CommandPrefix = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\0\n;&|`$<>()]+$/, 'must be a plain command prefix (no shell operators)')
  .refine((c) => c.trim() === c && !c.includes('  '), 'must have no leading, trailing or double spaces');

/**
 * What of the operator's machine a child (an executor, a validation or the setup step) is given. `home`: by
 * default an empty per-attempt HOME (mode 700, removed with the attempt); `passThrough: true` gives it the
 * operator's HOME path, which under the sandbox holds only `home.entries` (read-only; by default the adapter's
 * login folder). `commands` (executors only): what the agent may run, `"any"` or a list of command prefixes; by
 * default nothing. Each adapter maps it to its CLI's own controls, and a policy a CLI cannot enforce is refused
 * here (see `COMMAND_POLICY_SUPPORT`). `filesystem`, `network`, `limits`: the sandbox (docs/SANDBOX.md).
 */
export const ChildPolicy = z
  .strictObject({
    home: z.strictObject({ passThrough: z.boolean().default(false), entries: HomeEntries.optional() }).prefault({}),
    commands: z.union([z.literal('any'), z.array(CommandPrefix).max(32)]).default([]),
    filesystem: FilesystemPolicy,
    network: NetworkPolicy,
    limits: LimitsPolicy,
  })
  .prefault({});
export type ChildPolicy = z.infer<typeof ChildPolicy>;

type CommandPolicyKind = 'none' | 'list' | 'any';

/**
 * Which command policies each adapter's CLI can enforce. codex exec has no allowlist and no way to run no
 * commands (its approval policy is `never`; deny rules cannot say "only these"): only `"any"`, its
 * `workspace-write` sandbox. aider runs all of its suggested commands or none. `command` and `simulation` run the
 * operator's own program, which no policy confines.
 */
export const COMMAND_POLICY_SUPPORT: Record<(typeof ADAPTERS)[number], readonly CommandPolicyKind[]> = {
  'claude-code': ['none', 'list', 'any'],
  gemini: ['none', 'list', 'any'],
  codex: ['any'],
  aider: ['none', 'any'],
  command: ['none'],
  simulation: ['none'],
};

/** Which of the three command policies an entry states. */
export function commandPolicyKind(commands: ChildPolicy['commands']): CommandPolicyKind {
  return commands === 'any' ? 'any' : commands.length === 0 ? 'none' : 'list';
}

/** Why an adapter cannot enforce an entry's command policy, or null. */
export function commandPolicyRefusal(adapter: (typeof ADAPTERS)[number], commands: ChildPolicy['commands']): string | null {
  const kind = commandPolicyKind(commands);
  if (COMMAND_POLICY_SUPPORT[adapter].includes(kind)) return null;
  const what = { none: 'no commands (the default)', list: 'only a list of commands', any: '"any" command' }[kind];
  const can = COMMAND_POLICY_SUPPORT[adapter].map((k) => ({ none: 'no commands', list: 'a list', any: '"any"' })[k]).join(' or ');
  return `the ${adapter} adapter cannot enforce ${what}; it can enforce ${can}: set "policy": { "commands": ... } accordingly`;
}

/** One executor entry of a workspace. `argv` only for the `command` adapter, where it is required. */
export const ExecutorConfig = z
  .strictObject({
    adapter: z.enum(ADAPTERS),
    /** For planners: what this executor is for and how to word its task, in the operator's words. */
    description: z.string().min(1).max(2000).optional(),
    binary: z.string().min(1).max(4096).optional(),
    argv: z.array(z.string().min(1).max(4096)).min(1).max(64).optional(),
    args: z.array(z.string().max(4096)).max(64).optional(),
    env: EnvNames.optional(),
    minVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be x.y.z').optional(),
    timeout: Duration.optional(),
    /** No output on stdout or stderr for this long: the attempt is stopped and fails `STALLED`. */
    idleTimeout: Duration.optional(),
    /** Model-request retries, where the CLI has a knob for it (claude-code: `CLAUDE_CODE_MAX_RETRIES`, default 2). */
    retries: z.number().int().min(0).max(20).optional(),
    policy: ChildPolicy,
  })
  .superRefine((e, ctx) => {
    const refusal = commandPolicyRefusal(e.adapter, e.policy.commands);
    if (refusal) ctx.addIssue({ code: 'custom', path: ['policy', 'commands'], message: refusal });
    if (e.adapter === 'command' && !e.argv) ctx.addIssue({ code: 'custom', path: ['argv'], message: 'the command adapter needs an argv array' });
    if (e.adapter !== 'command' && e.argv) ctx.addIssue({ code: 'custom', path: ['argv'], message: 'argv is only for the command adapter' });
  });
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;
