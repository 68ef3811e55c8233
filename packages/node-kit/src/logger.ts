import { pino, type DestinationStream, type Logger } from 'pino';

/** Every place a credential can sit in a log line, in any of the three programs. */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'signature',
  '*.signature',
];

/** The root logger of a program: one per process, everything else is a child; credentials are redacted. */
export function createRootLogger(name: string, opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino({ name, level: opts.level ?? 'info', redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } }, opts.destination);
}

export type { Logger, DestinationStream };
