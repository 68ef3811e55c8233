import type { ExecutorSpec, InvocationContext, ParsedOutput } from './executor-types.js';
import { clipSummary } from './output-text.js';

/** The variables every adapter sets for its child. */
export function taskEnv(ctx: InvocationContext): Record<string, string> {
  return {
    SLUICE_TASK_FILE: ctx.taskFile,
    SLUICE_WORKTREE: ctx.worktree,
    ...(ctx.attemptId ? { SLUICE_ATTEMPT_ID: ctx.attemptId } : {}),
    ...(ctx.attemptNumber !== undefined ? { SLUICE_ATTEMPT_NUMBER: String(ctx.attemptNumber) } : {}),
  };
}

/** The entry's extra arguments, appended after the adapter's own. */
export const extra = (spec: ExecutorSpec): string[] => [...(spec.args ?? [])];

/** What the agent may run: `any`, the listed command prefixes, or nothing (the default). */
export function commandsOf(spec: ExecutorSpec): 'any' | readonly string[] {
  return spec.commands ?? [];
}

/** Collects the readable lines and the verdicts of one parse. */
export class ParseState {
  readonly log: string[] = [];
  readonly denied: string[] = [];
  summary: string | null = null;
  failure: string | null = null;
  auth: string | null = null;

  deny(what: string): void {
    this.denied.push(what);
    this.log.push(`denied: ${what}`);
  }

  result(): ParsedOutput {
    return {
      log: this.log.join('\n') + (this.log.length ? '\n' : ''),
      summary: clipSummary(this.summary),
      reportedFailure: this.failure,
      authFailure: this.auth ? clipSummary(this.auth) : null,
      denied: this.denied,
    };
  }
}

/** A tool call's target in one short line: its command, else its file path. */
export function toolTarget(input: Record<string, unknown> | null): string {
  if (!input) return '';
  const cmd = input.command ?? input.cmd;
  if (typeof cmd === 'string') return cmd;
  const path = input.file_path ?? input.path;
  return typeof path === 'string' ? path : '';
}

/** `liveLines` for an adapter whose parser reads JSON lines: the log its parser makes of that one line. */
export function liveLinesOf(parse: (stdout: string) => ParsedOutput): (line: string) => string[] {
  return (line) => {
    // A line that is not JSON (a warning the CLI printed on stdout) is shown as it is.
    if (!line.trim().startsWith('{')) return line.trim() ? [line] : [];
    return parse(`${line}\n`).log.split('\n').filter((l) => l.length > 0);
  };
}
