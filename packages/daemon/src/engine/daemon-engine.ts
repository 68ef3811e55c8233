import type { EngineContext } from '../api/build-app.js';
import type { EnginePort } from '../service/engine-port.js';
import { ExecutionEngine } from './engine.js';
import type { EngineLogger, EngineOptions } from './engine-types.js';

/** The execution engine as the daemon wires it: a factory for `buildApp`, then `start()` and `close()`. */
export interface DaemonEngine {
  /** Pass to `buildApp` as `engine`: builds the engine over the app's store, artifacts and live config. */
  factory: (ctx: EngineContext) => EnginePort;
  /** Crash recovery, then scheduling. Call after `buildApp` and before listening. */
  start(): Promise<void>;
  /** Stop scheduling and stop live attempts (recorded `interrupted`). Idempotent. */
  close(): Promise<void>;
}

/** An execution engine for a daemon home: scratch in `<home>/attempts`, worktrees in `<home>/worktrees` by default. */
export function daemonEngine(home: { attempts: string; worktrees: string }, opts: { logger?: EngineLogger; options?: EngineOptions } = {}): DaemonEngine {
  let engine: ExecutionEngine | null = null;
  let closing: Promise<void> | null = null;
  return {
    factory: (ctx) => {
      engine = new ExecutionEngine(
        { ...ctx, attemptsDir: home.attempts, worktreesDir: home.worktrees, ...(opts.logger ? { logger: opts.logger } : {}) },
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
  };
}
