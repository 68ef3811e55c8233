import type { RuntimePaths } from '../home/runtime-dir.js';
import type { EnginePort } from '../runs/engine-port.js';
import { ExecutionEngine } from './engine.js';
import type { EngineContext, EngineLogger, EngineOptions } from './engine-types.js';

/** The execution engine as the daemon wires it: a factory for `buildApp`, then `start()` and `close()`. */
export interface DaemonEngine {
  /** Pass to `buildApp` as `engine`: builds the engine over the app's store, artifacts and live config. */
  factory: (ctx: EngineContext) => EnginePort;
  /** Crash recovery, then scheduling. Call after `buildApp` and before listening. */
  start(): Promise<void>;
  /** Stop scheduling and stop live attempts (recorded `interrupted`). Idempotent. */
  close(): Promise<void>;
  /** Start no more queued attempts; resolves once the running ones have ended by themselves. */
  drain(): Promise<void>;
  /** Start no more queued attempts and cancel the running ones (recorded `cancelled` after their processes exit). */
  cancelRunning(reason: string, actor: string): Promise<void>;
  /** Attempts running now. */
  running(): number;
}

/** An execution engine for a daemon home: scratch and (by default) worktrees in its runtime folder, outside the home. */
export function daemonEngine(home: { root: string }, runtime: RuntimePaths, opts: { logger?: EngineLogger; options?: EngineOptions } = {}): DaemonEngine {
  let engine: ExecutionEngine | null = null;
  let closing: Promise<void> | null = null;
  return {
    factory: (ctx) => {
      engine = new ExecutionEngine(
        { ...ctx, attemptsDir: runtime.attempts, worktreesDir: runtime.worktrees, homeDir: home.root, ...(opts.logger ? { logger: opts.logger } : {}) },
        opts.options ?? {},
      );
      return engine;
    },
    start: async () => {
      if (!engine) throw new Error('the engine factory was not used');
      await engine.start();
    },
    close: () => {
      closing ??= engine ? engine.close() : Promise.resolve();
      return closing;
    },
    drain: async () => engine?.drain(),
    cancelRunning: async (reason, actor) => engine?.cancelRunning(reason, actor),
    running: () => engine?.liveCount ?? 0,
  };
}
