import * as z from 'zod';

/**
 * The wire error catalog: stable code → HTTP status → default message. The relay, the connector and the
 * daemon all answer with these codes, so a planner sees the same code whichever part refused it.
 */
export const ERROR_CATALOG = {
  // Request shape
  BAD_REQUEST: { status: 400, message: 'The request is not valid.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  INVALID_INPUT: { status: 400, message: 'The input does not match the verb schema.' },
  UNKNOWN_VERB: { status: 404, message: 'There is no such verb.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.' },
  NOT_ACCEPTABLE: { status: 406, message: 'The Accept header does not allow any response this route gives.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  CURSOR_INVALID: { status: 400, message: 'The cursor is not one this list gave out; start again without it.' },
  // Authentication and authorization
  UNAUTHENTICATED: { status: 401, message: 'A valid bearer token is required.' },
  TOKEN_MALFORMED: { status: 401, message: 'The token is malformed or its checksum is wrong.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired.' },
  TOKEN_REVOKED: { status: 401, message: 'The token has been revoked.' },
  INSUFFICIENT_SCOPE: { status: 403, message: 'The token lacks the scope this verb needs.' },
  FORBIDDEN: { status: 403, message: 'This caller may not do that.' },
  HOST_NOT_ALLOWED: { status: 403, message: 'The Host header is not an allowed name for this server.' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Browser requests from this Origin are refused.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; slow down.' },
  // Operator console (served by the daemon at /ui)
  CONSOLE_CODE_INVALID: { status: 401, message: 'The sign-in code is unknown, used or expired; run `sluice ui` for a new link.' },
  CONSOLE_NOT_BUILT: { status: 503, message: 'The console was not built; run `npm run build`.' },
  CONSOLE_SECRET_REQUIRED: { status: 403, message: 'Console calls must carry the session secret header; the cookie alone never authorizes.' },
  CONSOLE_SESSION_INVALID: { status: 401, message: 'The console session is unknown, expired or revoked; sign in again with `sluice ui`.' },
  CONSOLE_SESSION_NOT_FOUND: { status: 404, message: 'No such live console session.' },
  // Domain
  INSTANCE_NOT_FOUND: { status: 404, message: 'No such instance.' },
  WORKSPACE_NOT_FOUND: { status: 404, message: 'No such workspace, or it is not shared.' },
  RUN_NOT_FOUND: { status: 404, message: 'No such run.' },
  STEP_NOT_FOUND: { status: 404, message: 'No such step.' },
  ATTEMPT_NOT_FOUND: { status: 404, message: 'No such attempt.' },
  GATE_NOT_FOUND: { status: 404, message: 'No such gate.' },
  ARTIFACT_NOT_FOUND: { status: 404, message: 'No such artifact.' },
  ARTIFACT_PRUNED: { status: 410, message: 'The artifact was deleted by the retention policy (sluice gc); its ledger record remains.' },
  EXECUTOR_NOT_ALLOWED: { status: 422, message: 'That executor is not configured for this workspace.' },
  VALIDATION_NOT_DEFINED: { status: 422, message: 'That validation is not configured for this workspace.' },
  BASE_REF_NOT_FOUND: { status: 422, message: 'The base ref does not exist in the repository.' },
  BASE_REF_NOT_ALLOWED: { status: 422, message: 'The base is not accepted history: not on an operator branch or tag, nor on an accepted run head.' },
  RUN_NOT_OPEN: { status: 409, message: 'The run is not open.' },
  RUN_HAS_LIVE_STEPS: { status: 409, message: 'The run still has steps that are queued or running.' },
  RUN_HAS_PENDING_GATES: { status: 409, message: 'The run has gates waiting for a decision; decide them (or abort the run) before closing it.' },
  STEP_NOT_RETRYABLE: { status: 409, message: 'Only a failed, cancelled or interrupted step can be retried.' },
  GATE_ALREADY_DECIDED: { status: 409, message: 'The gate has already been decided.' },
  GATE_NOT_DECIDABLE: { status: 409, message: 'This gate is not an approval gate waiting for a decision.' },
  REMOTE_APPROVAL_DISABLED: { status: 403, message: 'This workspace accepts gate decisions from local operators only.' },
  ATTEMPT_CHOICE_REQUIRED: { status: 400, message: 'Several attempts passed; name the attempt to accept.' },
  ATTEMPT_NOT_ACCEPTABLE: { status: 409, message: 'That attempt cannot be accepted.' },
  IDEMPOTENCY_CONFLICT: { status: 409, message: 'This idempotency key was used with a different request.' },
  RUN_BRANCH_MOVED: { status: 409, message: 'The run branch moved underneath this attempt; nothing was overwritten.' },
  // Routing
  INSTANCE_OFFLINE: { status: 503, message: 'The instance is not connected.' },
  INSTANCE_AMBIGUOUS: { status: 409, message: 'Several instances could serve this; name the instance.' },
  INSTANCE_DISABLED: { status: 403, message: 'The instance is disabled.' },
  INSTANCE_REVOKED: { status: 401, message: 'The instance has been revoked; enroll again.' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The instance did not answer in time.' },
  UPSTREAM_ERROR: { status: 502, message: 'The instance answered with an error the relay could not read.' },
  RESPONSE_TOO_LARGE: { status: 502, message: 'The response exceeds the transport bound.' },
  DAEMON_UNAVAILABLE: { status: 503, message: 'The local daemon is not reachable.' },
  // Connector handshake
  AUTH_FAILED: { status: 401, message: 'The connector signature did not verify.' },
  SIGNATURE_REPLAYED: { status: 401, message: 'This challenge has already been used or has expired.' },
  CLOCK_SKEW: { status: 401, message: 'The connector clock is too far from the relay clock.' },
  ENROLLMENT_TOKEN_INVALID: { status: 401, message: 'The enrollment token is invalid, used or expired.' },
  UNSUPPORTED_PROTOCOL_VERSION: { status: 400, message: 'The protocol version is not supported.' },
  // Server
  INTERNAL: { status: 500, message: 'Internal error.' },
  UNAVAILABLE: { status: 503, message: 'The service is shutting down or not ready.' },
  STORAGE_ERROR: { status: 507, message: 'The store could not be written (disk full or read-only?).' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];
export const ErrorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]);

/** The body every error response carries. `details` holds field-level problems for INVALID_INPUT. */
export const ErrorBody = z.object({
  code: z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/),
  message: z.string().max(4000),
  details: z.array(z.object({ path: z.string(), message: z.string() })).max(50).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error that carries a catalog code; servers turn it into `{code, message}` with the catalog's status. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorBody['details'];
  constructor(code: ErrorCode, message?: string, details?: ErrorBody['details']) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'SluiceError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = details;
  }
  toBody(): ErrorBody {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/** True when a code is in the catalog. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CATALOG, code);
}

/** Turn a zod error into catalog details (bounded, no echo of the input values). */
export function zodDetails(err: z.ZodError): NonNullable<ErrorBody['details']> {
  return err.issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}
