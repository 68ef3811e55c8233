// Types for the end-to-end harness (the harness is plain ESM so `node scripts/demo.mjs` runs it without a build).
import type { ChildProcess } from 'node:child_process';
import type { Event, VerbInput, VerbName, VerbOutput } from '@sluice/shared-protocol';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}
export interface StopResult extends ExitInfo {
  clean: boolean;
}
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}
type Env = Record<string, string | undefined>;

export class HarnessTimeout extends Error {}
export class ManagedProcess {
  constructor(name: string, argv: string[], opts?: { env?: Env; cwd?: string });
  readonly name: string;
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  output: string;
  exit: ExitInfo | null;
  readonly exited: Promise<ExitInfo>;
  get running(): boolean;
  waitForOutput(re: RegExp, opts?: { timeoutMs?: number; from?: number }): Promise<RegExpExecArray>;
  stop(opts?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<StopResult>;
  crash(): Promise<ExitInfo>;
}
export function runNode(script: string, args: string[], opts?: { env?: Env; cwd?: string; input?: string; timeoutMs?: number }): Promise<CliResult>;
export function run(cmd: string, args: string[], opts?: { cwd?: string; env?: Env }): Promise<string>;
export function waitUntil<T>(fn: () => T | Promise<T>, opts?: { timeoutMs?: number; intervalMs?: number; what?: string }): Promise<NonNullable<T>>;
export function readJsonIfExists(path: string): unknown;

export const BUGGY_MATH: string;
export const FIXED_MATH: string;
export const WRONG_MATH: string;
export function git(cwd: string, args: string[]): Promise<string>;
export function makeBuggyRepo(dir: string): Promise<{ path: string; head: string }>;

export const FIX_TASK: string;
export const WRONG_FIX_TASK: string;
export const LONG_TASK: string;
export function writeFile(path: string, content: string): string;
export function slowFixTask(ms: number): string;

export class PlannerError extends Error {
  readonly code: string;
  readonly status: number | undefined;
}
export interface Planner {
  readonly kind: string;
  connect(): Promise<this>;
  close(): Promise<void>;
  call<V extends VerbName>(verb: V, input: VerbInput<V>): Promise<VerbOutput<V>>;
}
export class HttpPlanner implements Planner {
  constructor(relayUrl: string, token: string);
  readonly kind: string;
  connect(): Promise<this>;
  close(): Promise<void>;
  call<V extends VerbName>(verb: V, input: VerbInput<V>): Promise<VerbOutput<V>>;
}
export class McpPlanner implements Planner {
  constructor(relayUrl: string, token: string);
  readonly kind: string;
  connect(): Promise<this>;
  close(): Promise<void>;
  call<V extends VerbName>(verb: V, input: VerbInput<V>): Promise<VerbOutput<V>>;
  toolNames(): Promise<string[]>;
}
export function followEvents(
  planner: Pick<Planner, 'call'>,
  opts: { runId: string; after?: number; until: (e: Event) => boolean | Promise<boolean>; timeoutMs?: number; onEvent?: (e: Event) => void; waitMs?: number },
): Promise<{ events: Event[]; cursor: number; nextCursor: number; match: Event }>;

/** The daemon's config.json as an operator edits it (durations as text). */
export interface DaemonConfigFile {
  listen: { host: string; port: number };
  concurrency?: number;
  cancelGrace?: string;
  workspaces: Record<string, {
    path: string;
    name: string;
    executors: Record<string, { adapter: string; [k: string]: unknown }>;
    validations: Record<string, { argv: string[]; timeout?: string; env?: string[] }>;
    approval: { policy: 'none' | 'always'; remote: boolean };
    [k: string]: unknown;
  }>;
}

export const REPO_ROOT: string;
export const BINS: { sluice: string; relay: string; connector: string };
export function installedBins(prefix: string): { sluice: string; relay: string; connector: string };
export const PLANNER_SCOPES: readonly string[];

export class DaemonNode {
  constructor(home: string, opts?: { env?: Env; bin?: string });
  readonly home: string;
  readonly env: Env;
  proc: ManagedProcess | undefined;
  url: string | undefined;
  readonly configPath: string;
  readonly token: string;
  cli(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliResult>;
  cliJson(args: string[]): Promise<Record<string, unknown>>;
  editConfig(edit: (cfg: DaemonConfigFile) => void): DaemonConfigFile;
  init(): Promise<void>;
  addWorkspace(path: string, id: string, opts?: { approval?: { policy: 'none' | 'always'; remote: boolean }; described?: boolean }): Promise<void>;
  start(): Promise<this>;
  verb<V extends VerbName>(verb: V, input: VerbInput<V>): Promise<VerbOutput<V>>;
  stop(): Promise<StopResult | undefined>;
  crash(): Promise<ExitInfo | undefined>;
}
export class RelayNode {
  constructor(home: string, opts?: { heartbeatMs?: number; env?: Env; bin?: string; startArgs?: string[] });
  readonly home: string;
  readonly env: Env;
  proc: ManagedProcess | undefined;
  port: number;
  url: string | undefined;
  cli(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliResult>;
  cliJson(args: string[]): Promise<Record<string, unknown>>;
  start(): Promise<this>;
  createOrg(name: string, scopes?: string[], alongside?: () => Promise<unknown>): Promise<{ orgId: string; plannerToken: string; enrollToken: string }>;
  ready: Promise<this> | undefined;
  stop(): Promise<StopResult | undefined>;
  crash(): Promise<ExitInfo | undefined>;
}
export class ConnectorNode {
  constructor(daemon: DaemonNode, opts?: { env?: Env; bin?: string });
  readonly daemon: DaemonNode;
  readonly env: Env;
  proc: ManagedProcess | undefined;
  instanceId: string | undefined;
  readonly statePath: string;
  cli(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliResult>;
  cliJson(args: string[]): Promise<Record<string, unknown>>;
  enroll(relayUrl: string, enrollToken: string, name: string, shares: string[]): Promise<{ instanceId: string; orgId: string }>;
  start(): Promise<this>;
  waitConnected(timeoutMs?: number): Promise<void>;
  stop(): Promise<StopResult | undefined>;
  crash(): Promise<ExitInfo | undefined>;
}
export interface Machine {
  dir: string;
  workspaceId: string;
  repo: { path: string; head: string };
  daemon: DaemonNode;
  connector: ConnectorNode;
  org: { orgId: string; plannerToken: string; enrollToken: string };
}
export function addMachine(
  relay: RelayNode,
  opts: { dir: string; orgName: string; workspaceId: string; approval?: { policy: 'none' | 'always'; remote: boolean }; described?: boolean; connectorEnv?: Env },
): Promise<Machine>;
export function stopAll(named: Array<[string, { stop(): Promise<StopResult | undefined> } | undefined]>): Promise<Record<string, StopResult | { error: string; clean: false } | undefined>>;
export interface Stack {
  dir: string;
  workspaceId: string;
  repo: { path: string; head: string };
  daemon: DaemonNode;
  relay: RelayNode;
  connector: ConnectorNode;
  org: { orgId: string; plannerToken: string; enrollToken: string };
  stop(): Promise<Record<string, StopResult | { error: string; clean: false } | undefined>>;
}
export function startStack(opts?: {
  workspaceId?: string;
  approval?: { policy: 'none' | 'always'; remote: boolean };
  /** Executor and validation descriptions in the workspace config, as an operator would write them. */
  described?: boolean;
  /** The workspace's `sandbox` (default: the daemon's, "on"). */
  sandbox?: 'on' | 'off';
  heartbeatMs?: number;
  keepDir?: boolean;
}): Promise<Stack>;
