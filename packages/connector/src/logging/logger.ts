import pino from 'pino';
import { createRootLogger, type Logger } from '@sluice/node-kit';

/** The connector's root logger: JSON lines on stderr, secrets redacted. */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination(2)): Logger {
  return createRootLogger('sluice-connector', { level, destination });
}
