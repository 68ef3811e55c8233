import { CLOSE_CODES } from '@sluice/shared-protocol';
import { EXIT_CODES } from '../errors/exit-codes.js';
import type { ExitCode } from '../errors/exit-codes.js';

/** Why a session ended: an HTTP refusal of the upgrade, a close code, an error frame, or a local failure. */
export interface SessionEnd {
  /** Stable code (`INSTANCE_REVOKED`, `AUTH_FAILED`, `RELAY_UNAVAILABLE`, ...). */
  code: string;
  message: string;
  closeCode?: number | undefined;
}

interface Fatal {
  exitCode: ExitCode;
  advice: string;
}

const FATAL_BY_CODE: Record<string, Fatal> = {
  INSTANCE_REVOKED: { exitCode: EXIT_CODES.revoked, advice: 'this instance was revoked on the relay; enroll again with a new enrollment token' },
  INSTANCE_NOT_FOUND: { exitCode: EXIT_CODES.instanceNotFound, advice: 'the relay does not know this instance; enroll again' },
  INSTANCE_DISABLED: { exitCode: EXIT_CODES.disabled, advice: 'an admin disabled this instance on the relay; ask them to enable it, then start again' },
  UNSUPPORTED_PROTOCOL_VERSION: { exitCode: EXIT_CODES.unsupportedProtocol, advice: 'the relay does not speak this connector version; upgrade the connector' },
  CONNECTION_REPLACED: {
    exitCode: EXIT_CODES.replaced,
    advice:
      'a session with the same instance key connected from elsewhere and this one stops; if that was not you, the key is stolen: revoke the instance on the relay (sluice-relay instance revoke <instanceId>) and enroll again with a new enrollment token',
  },
};

const CODE_BY_CLOSE: Record<number, string> = {
  [CLOSE_CODES.revoked]: 'INSTANCE_REVOKED',
  [CLOSE_CODES.disabled]: 'INSTANCE_DISABLED',
  [CLOSE_CODES.unsupportedVersion]: 'UNSUPPORTED_PROTOCOL_VERSION',
  [CLOSE_CODES.replaced]: 'CONNECTION_REPLACED',
};

/** The stable code a relay close code stands for, if it means "stop". */
export function codeForCloseCode(closeCode: number): string | undefined {
  return CODE_BY_CLOSE[closeCode];
}

/**
 * The one table that decides "stop" versus "back off and reconnect". Everything not listed here is retried: a relay
 * restart, a network error, a missed heartbeat, a clock-skew or signature refusal (the clock may be fixed).
 */
export function isUnrecoverable(end: SessionEnd): Fatal | undefined {
  const byClose = end.closeCode === undefined ? undefined : CODE_BY_CLOSE[end.closeCode];
  const code = byClose ?? end.code;
  // Own keys only: a relay's goodbye may name any string, and "constructor" must not read as a fatal entry.
  return Object.prototype.hasOwnProperty.call(FATAL_BY_CODE, code) ? FATAL_BY_CODE[code] : undefined;
}
