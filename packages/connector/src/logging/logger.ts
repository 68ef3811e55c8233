import pino from 'pino';
import type { Logger } from 'pino';

/** The connector's root logger: JSON lines on stderr, secrets redacted. */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination(2)): Logger {
  return pino(
    {
      name: 'sluice-connector',
      level,
      redact: { paths: ['authorization', '*.authorization', 'token', '*.token', 'privateKey', '*.privateKey', 'signature', '*.signature'], censor: '[redacted]' },
    },
    destination,
  );
}
