import * as z from 'zod';
import { Duration } from './duration.js';

/** Executor adapters the daemon knows. */
export const ADAPTERS = ['simulation', 'command', 'claude-code', 'codex', 'aider', 'gemini'] as const;

/** Names of environment variables passed through to a child. */
export const EnvNames = z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')).max(64);

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
  })
  .superRefine((e, ctx) => {
    if (e.adapter === 'command' && !e.argv) ctx.addIssue({ code: 'custom', path: ['argv'], message: 'the command adapter needs an argv array' });
    if (e.adapter !== 'command' && e.argv) ctx.addIssue({ code: 'custom', path: ['argv'], message: 'argv is only for the command adapter' });
  });
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;
