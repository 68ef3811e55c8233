/** The adapters a workspace executor entry can name. */
export const ADAPTER_KINDS = ['simulation', 'command', 'claude-code', 'codex', 'aider', 'gemini'] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/** The part of a workspace executor entry the adapters read (the config schema lives in `src/config`). */
export interface ExecutorSpec {
  adapter: AdapterKind;
  /** Program name (looked up on PATH) or absolute path; defaults per adapter. */
  binary?: string | undefined;
  /** `command` only: the operator's argv. */
  argv?: readonly string[] | undefined;
  /** Extra arguments appended to the adapter's own. */
  args?: readonly string[] | undefined;
  /** Names of daemon environment variables passed through to the child. */
  env?: readonly string[] | undefined;
  /** Oldest CLI version accepted (`x.y.z`). */
  minVersion?: string | undefined;
  /** How often the CLI retries a failed model request (mapped to the CLI's own knob where it has one). */
  retries?: number | undefined;
  /** What the agent may run: `any`, these command prefixes, or nothing (unset). Enforced by the CLI's own controls. */
  commands?: 'any' | readonly string[] | undefined;
}

/** What an attempt gives an adapter to build its invocation. */
export interface InvocationContext {
  task: string;
  /** The attempt worktree: the child's cwd. */
  worktree: string;
  /** The task text in a file outside the worktree (`SLUICE_TASK_FILE`). */
  taskFile: string;
  /** A scratch directory outside the worktree for the adapter's own files. */
  scratchDir: string;
  /** The program found by preflight. */
  binaryPath: string;
  /** The attempt (exported as `SLUICE_ATTEMPT_ID` / `SLUICE_ATTEMPT_NUMBER`). */
  attemptId?: string;
  attemptNumber?: number;
  /**
   * A per-attempt folder for the CLI's own state (config, transcripts, trust files), removed with the attempt;
   * null when the operator passes their HOME through (their login and settings then apply).
   */
  stateDir?: string | null;
}

/** A fully built child invocation: argv (no shell), stdin, and the variables Sluice sets. */
export interface Invocation {
  argv: string[];
  stdin: string;
  env: Record<string, string>;
  /** Files the CLI reads at start (its settings in `stateDir`), written before the spawn. */
  files?: { path: string; content: string }[];
  /** Folders the CLI needs to exist at start (codex refuses a `CODEX_HOME` that does not), created before the spawn. */
  dirs?: string[];
}

/** An executor's stdout turned into a readable log and a short summary. */
export interface ParsedOutput {
  log: string;
  summary: string | null;
  /** The agent itself reported failure (e.g. `is_error` in a result line) even if it exited 0. */
  reportedFailure: string | null;
  /** The CLI's own words when the model API refused its credentials. */
  authFailure: string | null;
  /** Actions the CLI's permission controls refused, one line each (tool and command or path). */
  denied: string[];
  /** Why the executor found nothing in the task to act on (the simulation's language), when it said so. */
  notUnderstood?: string | null;
}

/**
 * What an adapter is known to work with: the CLI versions it is tested with and the flags it passes, which
 * preflight looks up in the CLI's own help text. Outside the range it runs with a warning; a missing flag fails it.
 */
export interface Compatibility {
  /** Comparators joined by spaces, all of which must hold (`>=2.1.197 <2.2.0`). */
  readonly testedRange: string;
  /** The arguments that print the help of the mode the adapter uses (`codex exec --help`). */
  readonly helpArgs: readonly string[];
  readonly flags: readonly string[];
}

/** Where a CLI looks for its credentials: env names and login files under its HOME (names and paths, never values). */
export interface AuthSources {
  readonly env: readonly string[];
  /** Relative to the HOME the CLI gets; present only for an entry with `policy.home.passThrough`. */
  readonly files: readonly string[];
}

/** Preflight result: where the program is, which version it says it is, and what preflight warns about. */
export interface Preflight {
  binaryPath: string;
  version: string | null;
  /** A version outside the tested range (it runs all the same). */
  warnings: string[];
}

/** One executor adapter. Adapters build argv and parse output; they never run anything themselves. */
export interface ExecutorAdapter {
  readonly kind: AdapterKind;
  /** Program looked up on PATH when the entry names no `binary`; null for `command` (argv[0]) and `simulation`. */
  readonly defaultBinary: string | null;
  /** Oldest version whose flags this adapter uses; combined with the entry's `minVersion`. */
  readonly builtinMinVersion: string | null;
  /** The compatibility contract of a CLI adapter; null where the program is the operator's (command, simulation). */
  readonly compat: Compatibility | null;
  readonly auth: AuthSources | null;
  buildInvocation(spec: ExecutorSpec, ctx: InvocationContext): Invocation;
  /**
   * Structured adapters: one stdout line as readable log lines (assistant text, tool calls with their files or
   * commands, retries, denials) for the live `attempt.log` events; none for a line that says nothing (or repeats
   * the task). Without it the raw lines are published.
   */
  liveLines?(line: string): string[];
  /** Reads stdout and stderr: some CLIs report errors and denials only on stderr. */
  parseOutput(stdout: string, stderr?: string): ParsedOutput;
}

/** Attempt failure codes from executors (recorded as the attempt's `failureCode`; see docs/EXECUTORS.md). */
export type ExecutorFailureCode =
  | 'EXECUTOR_NOT_FOUND'
  | 'EXECUTOR_TOO_OLD'
  | 'EXECUTOR_VERSION_UNKNOWN'
  | 'EXECUTOR_INCOMPATIBLE'
  | 'EXECUTOR_PREFLIGHT_TIMEOUT'
  | 'EXECUTOR_MISCONFIGURED'
  | 'EXECUTOR_START_FAILED'
  | 'EXECUTOR_FAILED';

/** A preflight or start failure with its stable code; never turned into a fallback. */
export class ExecutorError extends Error {
  constructor(
    readonly code: ExecutorFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExecutorError';
  }
}
