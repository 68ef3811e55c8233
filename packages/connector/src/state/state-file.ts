import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { writeFileAtomic600 } from '../config/atomic-write.js';

/** What `run` tells `status`: written atomically on every change of connection state. */
export const ConnectorState = z.object({
  pid: z.number().int(),
  connected: z.boolean(),
  /** When the current connection was welcomed, or null. */
  since: z.string().nullable(),
  relay: z.string(),
  instanceId: z.string(),
  /** Workspace ids advertised in the last hello. */
  workspaces: z.array(z.string()),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
  nextRetryAt: z.string().nullable(),
  /** Set when `run` exited. */
  stoppedAt: z.string().nullable(),
  /** Set when the relay closed this connector's session because another one with the same key connected. */
  sessionReplaced: z.object({ at: z.string(), message: z.string() }).nullable().default(null),
  exitCode: z.number().int().nullable(),
  updatedAt: z.string(),
});
export type ConnectorState = z.infer<typeof ConnectorState>;

export function writeState(path: string, state: ConnectorState): void {
  writeFileAtomic600(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** The last state `run` wrote, or undefined when there is none (or it cannot be read). */
export function readState(path: string): ConnectorState | undefined {
  try {
    const parsed = ConnectorState.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** True when a process with that pid exists (it may belong to someone else; `EPERM` still means alive). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
