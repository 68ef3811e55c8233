import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorStatus } from '@sluice/shared-protocol';
import type { WorkspaceConfig } from '../config/schema.js';
import { ExecutorError, getAdapter, preflightExecutor } from '../executors/index.js';
import { homeEnv } from '../engine/scratch-home.js';
import { buildChildEnv } from '../process/child-env.js';

/** The preflight each attempt runs, run now for every executor of a workspace, with the same environment rules. */
export async function executorStatuses(ws: WorkspaceConfig): Promise<ExecutorStatus[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-preflight-'));
  try {
    return await Promise.all(
      Object.entries(ws.executors).map(async ([name, entry]): Promise<ExecutorStatus> => {
        const env = buildChildEnv(entry.env ?? [], homeEnv(entry.policy, scratch));
        try {
          const p = await preflightExecutor(getAdapter(entry.adapter), entry, env, scratch);
          return { name, adapter: entry.adapter, ok: true, binaryPath: p.binaryPath, version: p.version, code: null, message: null };
        } catch (err) {
          if (!(err instanceof ExecutorError)) throw err;
          return { name, adapter: entry.adapter, ok: false, binaryPath: null, version: null, code: err.code, message: err.message };
        }
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
