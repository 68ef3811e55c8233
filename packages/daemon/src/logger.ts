import { createRootLogger, type DestinationStream, type Logger } from '@sluice/node-kit';

/** The root logger: one per process; everything else is a child. Secrets are redacted. */
export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return createRootLogger('sluice-daemon', opts);
}

export type { Logger };
