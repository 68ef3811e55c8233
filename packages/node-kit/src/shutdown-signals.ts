/** How a Sluice program ended after SIGTERM or SIGINT; the same in the daemon, the connector and the relay. */
export const SHUTDOWN_EXIT_CODES = {
  /** The running work finished, then the program stopped. */
  drained: 0,
  /** Stopping failed (the error is logged). */
  failed: 1,
  /** A second signal, or the drain timeout, cancelled the running work; then the program stopped. */
  cancelled: 130,
  /** A third signal: the program exited at once, without waiting for anything. */
  forced: 131,
} as const;

/** What a program does on each step of the escalation. */
export interface ShutdownPlan {
  /** What is going on now, for the first line ("2 attempts running"); null when nothing is. */
  running(): string | null;
  /**
   * Stop taking work; resolves once the running work has finished and the program can exit, with the program's own
   * exit code if it has one (the connector's `run` reports why it ended), else `drained`.
   */
  drain(): Promise<number | void>;
  /** How long `drain` may take before the running work is cancelled as if a second signal came. */
  drainTimeoutMs: number;
  /** Cancel the running work honestly (record it cancelled); resolves once the program can exit. */
  cancel(): Promise<void>;
  log(line: string): void;
  /** Defaults to `process.exit`. */
  exit?: (code: number) => void;
  /** Where the signals come from; defaults to `process`. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** `300000` → `5m0s`, `1500` → `1.5s` (Go's notation, which operators know from other agents). */
export function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * The shutdown escalation of every Sluice program. The first SIGTERM or Ctrl-C stops taking work and lets the
 * running work finish, bounded by the drain timeout; the second cancels the running work honestly; the third exits
 * at once. Returns a function that removes the handlers.
 */
export function onShutdownSignals(plan: ShutdownPlan): () => void {
  const exit = plan.exit ?? ((code: number) => process.exit(code));
  const source = plan.signals ?? process;
  let received = 0;
  let timer: NodeJS.Timeout | undefined;

  const finish = (step: Promise<number | void>, code: number, stage: number): Promise<void> =>
    step.then(
      (own) => {
        // A later signal took over; its own ending exits.
        if (received > stage) return;
        clearTimeout(timer);
        plan.log('stopped');
        exit(typeof own === 'number' ? own : code);
      },
      (err: unknown) => {
        clearTimeout(timer);
        plan.log(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
        exit(SHUTDOWN_EXIT_CODES.failed);
      },
    );

  const cancel = (why: string) => {
    received = 2;
    plan.log(`${why}: cancelling the running work; press Ctrl-C again to exit at once`);
    void finish(plan.cancel(), SHUTDOWN_EXIT_CODES.cancelled, 2);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (received === 0) {
      received = 1;
      const what = plan.running();
      if (what === null) plan.log(`${signal}: stopping; nothing is running`);
      else {
        plan.log(`${signal}: draining: ${what}; waiting up to ${formatDuration(plan.drainTimeoutMs)}; press Ctrl-C again to cancel them`);
        timer = setTimeout(() => cancel(`the drain timeout (${formatDuration(plan.drainTimeoutMs)}) passed`), plan.drainTimeoutMs);
        timer.unref();
      }
      void finish(plan.drain(), SHUTDOWN_EXIT_CODES.drained, 1);
    } else if (received === 1) {
      clearTimeout(timer);
      cancel(`second ${signal}`);
    } else {
      received = 3;
      plan.log(`${signal} again: exiting now`);
      exit(SHUTDOWN_EXIT_CODES.forced);
    }
  };
  for (const s of SIGNALS) source.on(s, onSignal);
  return () => {
    clearTimeout(timer);
    for (const s of SIGNALS) source.off(s, onSignal);
  };
}
