import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { ConfigHolder } from '../config/config-holder.js';
import type { Store } from '../store/index.js';

export { ENGINE_ACTOR } from '../runs/engine-port.js';

/** Minimal logger surface (a pino child logger fits). */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the engine factory gets: the same store and live config the services use. */
export interface EngineContext {
  store: Store;
  artifacts: ArtifactStore;
  config: ConfigHolder;
}

/** What the engine needs. */
export interface EngineDeps extends EngineContext {
  /** Scratch space per attempt (task file, captured output, scratch HOME), outside the daemon home. */
  attemptsDir: string;
  /** Default worktree root when a workspace sets none, outside the daemon home. */
  worktreesDir: string;
  /** The daemon home: no worktree may lie inside it. */
  homeDir?: string;
  logger?: EngineLogger;
}

/** Tuning knobs (the defaults suit a laptop). */
export interface EngineOptions {
  /** Bytes of stdout/stderr kept per stream. */
  outputCapBytes?: number;
  /** `checkout.workers` for worktree checkouts. */
  checkoutWorkers?: number;
  /** Worktrees kept per repository for reuse; 0 disables pooling. */
  worktreePool?: number;
  /** Overrides the config's `cancelGrace` (tests). */
  cancelGraceMs?: number;
  /** Environment the child allowlist reads from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}
