import { pino, type Logger, type DestinationStream } from 'pino';

/** The root logger: one per process; everything else is a child. Secrets are redacted. */
export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'sluice-daemon' },
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', '*.token', 'token', '*.key', 'key'], censor: '[redacted]' },
    },
    opts.destination,
  );
}

export type { Logger };
