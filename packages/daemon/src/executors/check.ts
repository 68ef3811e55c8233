import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorCheck, ExecutorCheckStatus } from '@sluice/shared-protocol';
import type { ExecutorConfig } from '../config/executor-config.js';
import type { DaemonConfig } from '../config/schema.js';
import { workspaceSandboxStatus, type SandboxStatus } from '../sandbox/status.js';
import { homeEnv, makeScratchHome } from '../engine/scratch-home.js';
import { buildChildEnv } from '../process/child-env.js';
import { getAdapter } from './adapters.js';
import type { ExecutorAdapter, ExecutorFailureCode } from './executor-types.js';
import { inspectProgram, type PreflightOptions, type ProgramReport } from './preflight.js';

/** What a check needs besides the entry: the daemon's environment (whose values are never reported). */
export interface CheckContext extends PreflightOptions {
  source: NodeJS.ProcessEnv;
}

const STATUS_OF_FAILURE: Partial<Record<ExecutorFailureCode, ExecutorCheckStatus>> = {
  EXECUTOR_NOT_FOUND: 'not-found',
  EXECUTOR_INCOMPATIBLE: 'incompatible',
  EXECUTOR_TOO_OLD: 'incompatible',
  EXECUTOR_VERSION_UNKNOWN: 'incompatible',
};

function statusOf(report: ProgramReport): ExecutorCheckStatus {
  if (report.failure) return STATUS_OF_FAILURE[report.failure.code] ?? 'error';
  return report.warnings.length > 0 ? 'untested-version' : 'ready';
}

const present = (source: NodeJS.ProcessEnv, name: string) => (source[name] ?? '') !== '';

/** Where the CLI would find credentials: names and paths only. */
function authOf(adapter: ExecutorAdapter, entry: ExecutorConfig, source: NodeJS.ProcessEnv): ExecutorCheck['auth'] {
  if (!adapter.auth) return { env: [], files: [], ready: null };
  const passed = entry.env ?? [];
  const env = adapter.auth.env.map((name) => ({ name, passed: passed.includes(name), present: present(source, name) }));
  const home = source.HOME || homedir();
  const used = entry.policy.home.passThrough;
  const files = adapter.auth.files.map((f) => ({ path: `~/${f}`, present: existsSync(join(home, f)), used }));
  return { env, files, ready: env.some((e) => e.passed && e.present) || files.some((f) => f.used && f.present) };
}

/**
 * One workspace executor checked the way an attempt's preflight checks it (the same child environment and HOME
 * policy, in a scratch folder removed afterwards), plus where its credentials would come from. Never throws for a
 * program that cannot run: that is the answer.
 */
export async function checkExecutor(workspaceId: string, executor: string, entry: ExecutorConfig, ctx: CheckContext): Promise<ExecutorCheck> {
  const adapter = getAdapter(entry.adapter);
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-check-'));
  try {
    const env = buildChildEnv(entry.env ?? [], homeEnv(entry.policy, makeScratchHome(scratch)), ctx.source);
    const report = await inspectProgram(adapter, { ...entry, commands: entry.policy.commands }, env, scratch, ctx);
    return {
      workspaceId,
      executor,
      adapter: entry.adapter,
      status: statusOf(report),
      binary: report.binary,
      binaryPath: report.binaryPath,
      version: report.version,
      testedRange: report.testedRange,
      capabilities: report.flags,
      auth: authOf(adapter, entry, ctx.source),
      failureCode: report.failure?.code ?? null,
      message: report.failure?.message ?? null,
      warnings: report.warnings,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every executor of every workspace (or of one), one after the other so the probes do not compete. */
export async function checkExecutors(config: DaemonConfig, ctx: CheckContext & { workspaceId?: string }): Promise<ExecutorCheck[]> {
  const out: ExecutorCheck[] = [];
  for (const [workspaceId, ws] of Object.entries(config.workspaces)) {
    if (ctx.workspaceId !== undefined && workspaceId !== ctx.workspaceId) continue;
    const sandbox = workspaceSandboxStatus(workspaceId, ws);
    for (const [name, entry] of Object.entries(ws.executors)) out.push(withSandbox(await checkExecutor(workspaceId, name, entry, ctx), sandbox));
  }
  return out;
}

/** The workspace's sandbox decides too: unconfined is a warning, a sandbox that cannot be made fails every attempt. */
function withSandbox(check: ExecutorCheck, sandbox: SandboxStatus): ExecutorCheck {
  if (sandbox.mode === 'off') return { ...check, warnings: [...check.warnings, sandbox.warning] };
  if (sandbox.available || !RUNNABLE_STATUSES.has(check.status)) return check;
  return { ...check, status: 'error', failureCode: 'SANDBOX_UNAVAILABLE', message: `the sandbox cannot be made: ${sandbox.reason}` };
}

/** The statuses under which attempts run. */
export const RUNNABLE_STATUSES: ReadonlySet<ExecutorCheckStatus> = new Set(['ready', 'untested-version']);
