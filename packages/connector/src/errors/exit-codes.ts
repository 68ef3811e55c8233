import type { ErrorCode } from '@sluice/shared-protocol';

/** Process exit codes of `sluice-connector`, stable so service managers and scripts can tell failures apart. */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** No config, or a config that does not parse. */
  configInvalid: 3,
  /** The config file is readable by group or others. */
  configInsecure: 4,
  /** The local daemon could not be reached. */
  daemonUnavailable: 5,
  /** The relay could not be reached. */
  relayUnavailable: 6,
  /** The relay revoked this instance: enroll again. */
  revoked: 10,
  /** The relay does not know this instance id. */
  instanceNotFound: 11,
  /** An admin disabled this instance. */
  disabled: 12,
  /** The relay does not speak this connector's protocol version. */
  unsupportedProtocol: 13,
  /** Another session of the same instance took over. */
  replaced: 14,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exits of `run` that starting again cannot fix (the config, the enrollment, another session): no service restart. */
export const MISCONFIGURED_EXIT_CODES: readonly ExitCode[] = [
  EXIT_CODES.usage,
  EXIT_CODES.configInvalid,
  EXIT_CODES.configInsecure,
  EXIT_CODES.revoked,
  EXIT_CODES.instanceNotFound,
  EXIT_CODES.disabled,
  EXIT_CODES.unsupportedProtocol,
  EXIT_CODES.replaced,
];

/** A failure the CLI reports with a stable code, a message for humans and an exit code. */
export class ConnectorFailure extends Error {
  readonly code: ErrorCode | ConnectorLocalCode;
  readonly exitCode: ExitCode;
  constructor(code: ErrorCode | ConnectorLocalCode, message: string, exitCode: ExitCode = EXIT_CODES.failure) {
    super(message);
    this.name = 'ConnectorFailure';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Codes that only the connector CLI reports (never sent on the wire). */
export type ConnectorLocalCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'CONFIG_INSECURE'
  | 'NOT_ENROLLED'
  | 'ALREADY_ENROLLED'
  | 'INSECURE_RELAY_URL'
  | 'RELAY_UNAVAILABLE'
  | 'RELAY_ERROR'
  | 'CONNECTION_REPLACED';
