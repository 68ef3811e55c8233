import * as z from 'zod';
import { Duration } from './duration.js';

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

/**
 * What of the operator's machine a child (an executor or a validation) is given. `home`: by default an empty
 * per-attempt HOME (mode 700, removed with the attempt); `passThrough: true` gives it the operator's HOME (agent
 * CLIs that need their login, such as claude-code, need this).
 */
export const ChildPolicy = z
  .strictObject({
    home: z.strictObject({ passThrough: z.boolean().default(false) }).default({ passThrough: false }),
  })
  .default({ home: { passThrough: false } });
export type ChildPolicy = z.infer<typeof ChildPolicy>;

/** One executor entry of a workspace. `argv` only for the `command` adapter, where it is required. */
export const ExecutorConfig = z
  .strictObject({
    adapter: z.enum(ADAPTERS),
    binary: z.string().min(1).max(4096).optional(),
    argv: z.array(z.string().min(1).max(4096)).min(1).max(64).optional(),
    args: z.array(z.string().max(4096)).max(64).optional(),
    env: EnvNames.optional(),
    minVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be x.y.z').optional(),
    timeout: Duration.optional(),
    policy: ChildPolicy,
  })
  .superRefine((e, ctx) => {
    if (e.adapter === 'command' && !e.argv) ctx.addIssue({ code: 'custom', path: ['argv'], message: 'the command adapter needs an argv array' });
    if (e.adapter !== 'command' && e.argv) ctx.addIssue({ code: 'custom', path: ['argv'], message: 'argv is only for the command adapter' });
  });
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;
