import * as z from 'zod';

/** One catalog entry: `hint` says what to do next; `retryable` codes may succeed unchanged after `retryAfterMs`. */
export interface CatalogEntry {
  status: number;
  message: string;
  hint: string;
  retryable?: boolean;
  retryAfterMs?: number;
}

/**
 * The wire error catalog: stable code → HTTP status → default message and hint. The relay, the connector and the
 * daemon all answer with these codes, so a planner sees the same code whichever part refused it.
 */
export const ERROR_CATALOG = {
  // Request shape
  BAD_REQUEST: { status: 400, message: 'The request is not valid.', hint: 'Check the method, path and headers against docs/RELAY.md.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.', hint: 'Send one JSON object as the body, with Content-Type: application/json.' },
  INVALID_INPUT: { status: 400, message: 'The input does not match the verb schema.', hint: 'Read `details` (field path and problem) and the tool\'s input schema, fix those fields and call again.' },
  UNKNOWN_VERB: { status: 404, message: 'There is no such verb.', hint: 'Call tools/list (or GET /api/v2/verbs) for the verbs that exist.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.', hint: 'Use the method in the Allow header (POST for /mcp and verbs).' },
  NOT_ACCEPTABLE: { status: 406, message: 'The Accept header does not allow any response this route gives.', hint: 'Accept application/json (and text/event-stream for /mcp and event streams).' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time.', hint: 'Send the whole request promptly; retry it.', retryable: true },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.', hint: 'Shorten the input (task text, reason); the limits are in the input schema.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.', hint: 'Send Content-Type: application/json.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.', hint: 'Send fewer or shorter headers.' },
  NOT_FOUND: { status: 404, message: 'Not found.', hint: 'Check the path; verbs live under /api/v2/verbs/<verb> and MCP at /mcp.' },
  CURSOR_INVALID: { status: 400, message: 'The cursor is not one this list gave out; start again without it.', hint: 'Call the list again without a cursor, then pass only the nextCursor it returns.' },
  // Authentication and authorization
  UNAUTHENTICATED: { status: 401, message: 'A valid bearer token is required.', hint: 'Send Authorization: Bearer <token> with a valid token for this server.' },
  TOKEN_MALFORMED: { status: 401, message: 'The token is malformed or its checksum is wrong.', hint: 'Copy the whole token again; it is checksummed, so a typo is caught here.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired.', hint: 'Ask the operator for a new token.' },
  TOKEN_REVOKED: { status: 401, message: 'The token has been revoked.', hint: 'Ask the operator for a new token.' },
  INSUFFICIENT_SCOPE: { status: 403, message: 'The token lacks the scope this verb needs.', hint: 'Ask the operator for a token with the scope this tool needs (its description names it); do not retry.' },
  FORBIDDEN: { status: 403, message: 'This caller may not do that.', hint: 'This caller may not do that; ask the operator.' },
  HOST_NOT_ALLOWED: { status: 403, message: 'The Host header is not an allowed name for this server.', hint: 'Call the server by the host name the operator configured.' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Browser requests from this Origin are refused.', hint: 'Call from a non-browser client, or ask the operator to allow this Origin.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; slow down.', hint: 'Wait retryAfterMs, then retry the same call.', retryable: true, retryAfterMs: 1000 },
  // Operator console (served by the daemon at /ui)
  CONSOLE_CODE_INVALID: { status: 401, message: 'The sign-in code is unknown, used or expired; run `sluice ui` for a new link.', hint: 'Run `sluice ui` on the machine for a new one-time link; each link works once, for two minutes.' },
  CONSOLE_NOT_BUILT: { status: 503, message: 'The console was not built; run `npm run build`.', hint: 'Run `npm run build` in the Sluice checkout, then reload the page.' },
  CONSOLE_SECRET_REQUIRED: { status: 403, message: 'Console calls must carry the session secret header; the cookie alone never authorizes.', hint: 'Open the console through the link `sluice ui` prints; a reload signs you out, since the secret lives in page memory only.' },
  CONSOLE_SESSION_INVALID: { status: 401, message: 'The console session is unknown, expired or revoked; sign in again with `sluice ui`.', hint: 'Sign in again with the link `sluice ui` prints.' },
  CONSOLE_SESSION_NOT_FOUND: { status: 404, message: 'No such live console session.', hint: 'List live sessions with `sluice ui sessions`.' },
  // Domain
  INSTANCE_NOT_FOUND: { status: 404, message: 'No such instance.', hint: 'Call instances_list and use an instanceId it returns.' },
  WORKSPACE_NOT_FOUND: { status: 404, message: 'No such workspace, or it is not shared.', hint: 'Call instances_list and use a workspaceId it lists for that instance.' },
  RUN_NOT_FOUND: { status: 404, message: 'No such run.', hint: 'Use a runId that runs_open or runs_list returned.' },
  STEP_NOT_FOUND: { status: 404, message: 'No such step.', hint: 'Use a stepId that steps_dispatch or runs_get returned.' },
  ATTEMPT_NOT_FOUND: { status: 404, message: 'No such attempt.', hint: 'Use an attemptId that steps_get or runs_get returned.' },
  GATE_NOT_FOUND: { status: 404, message: 'No such gate.', hint: 'Use a gateId that gates_list or steps_get returned.' },
  ARTIFACT_NOT_FOUND: { status: 404, message: 'No such artifact.', hint: 'Use a digest that artifacts_list returned for this run.' },
  ARTIFACT_PRUNED: { status: 410, message: 'The artifact was deleted by the retention policy (sluice gc); its ledger record remains.', hint: 'The content is gone; rerun the step if you need it again.' },
  EXECUTOR_NOT_ALLOWED: { status: 422, message: 'That executor is not configured for this workspace.', hint: 'Pick one of `allowed` (the workspace\'s executors, also in instances_list).' },
  VALIDATION_NOT_DEFINED: { status: 422, message: 'That validation is not configured for this workspace.', hint: 'Pick validations from `allowed` (the workspace\'s validations, also in instances_list).' },
  BASE_REF_NOT_FOUND: { status: 422, message: 'The base ref does not exist in the repository.', hint: 'Leave baseRef out (HEAD) or name a branch, tag or commit that exists.' },
  BASE_REF_NOT_ALLOWED: { status: 422, message: 'The base is not accepted history: not on an operator branch or tag, nor on an accepted run head.', hint: 'Leave baseRef out, or name an operator branch or tag, or an accepted run head.' },
  RUN_NOT_OPEN: { status: 409, message: 'The run is not open.', hint: 'Open a new run with runs_open; a closed or aborted run takes no steps.' },
  RUN_HAS_LIVE_STEPS: { status: 409, message: 'The run still has steps that are queued or running.', hint: 'Wait for the steps (steps_wait) or cancel them, then close the run.' },
  RUN_HAS_PENDING_GATES: { status: 409, message: 'The run has gates waiting for a decision; decide them (or abort the run) before closing it.', hint: 'Decide the pending gates (gates_list, then gates_approve or gates_reject) or abort the run.' },
  STEP_NOT_RETRYABLE: { status: 409, message: 'Only a failed, cancelled or interrupted step can be retried.', hint: 'Only a failed, cancelled or interrupted step can be retried; dispatch a new step instead.' },
  GATE_ALREADY_DECIDED: { status: 409, message: 'The gate has already been decided.', hint: 'Nothing to do; gates_list with status decided shows the decision.' },
  GATE_NOT_DECIDABLE: { status: 409, message: 'This gate is not an approval gate waiting for a decision.', hint: 'Only a pending approval gate can be decided; gates_list shows which are pending.' },
  REMOTE_APPROVAL_DISABLED: { status: 403, message: 'This workspace accepts gate decisions from local operators only.', hint: 'Ask the local operator to decide this gate (sluice gates approve); do not retry.' },
  ATTEMPT_CHOICE_REQUIRED: { status: 400, message: 'Several attempts passed; name the attempt to accept.', hint: 'Call again with attemptId set to one of `allowed` (the attempts that passed).' },
  ATTEMPT_NOT_ACCEPTABLE: { status: 409, message: 'That attempt cannot be accepted.', hint: 'Accept an attempt that succeeded and passed its validations (steps_get shows them).' },
  IDEMPOTENCY_CONFLICT: { status: 409, message: 'This idempotency key was used with a different request.', hint: 'Use a new idempotencyKey for a different request, or resend the first request unchanged.' },
  RUN_BRANCH_MOVED: { status: 409, message: 'The run branch moved underneath this attempt; nothing was overwritten.', hint: 'Retry the step (steps_retry) so it starts from the current run branch head.' },
  // Secrets withheld from remote callers
  ARTIFACT_WITHHELD: { status: 403, message: 'The artifact matched a credential shape and is withheld from remote reads until the local operator releases it.', hint: 'Ask the local operator to review it and run `sluice artifact release <artifactId>`; other artifacts of the attempt stay readable.' },
  SECRET_REVIEW_REQUIRED: { status: 403, message: 'Credential shapes were found in this attempt; only the local operator can accept it (or release what was withheld first).', hint: 'Reject the attempt, or ask the local operator to approve it with `sluice approve` or release what was withheld.' },
  // Routing
  INSTANCE_OFFLINE: { status: 503, message: 'The instance is not connected.', hint: 'The operator\'s machine is not connected; retry after retryAfterMs.', retryable: true, retryAfterMs: 5000 },
  INSTANCE_AMBIGUOUS: { status: 409, message: 'Several instances could serve this; name the instance.', hint: 'Name instanceId (one of `allowed` when given, or from instances_list).' },
  INSTANCE_DISABLED: { status: 403, message: 'The instance is disabled.', hint: 'Ask the operator to enable the instance; do not retry.' },
  INSTANCE_REVOKED: { status: 401, message: 'The instance has been revoked; enroll again.', hint: 'The instance must be enrolled again by its operator.' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The instance did not answer in time.', hint: 'Retry after retryAfterMs; for a long step use steps_wait or events_list with waitMs.', retryable: true, retryAfterMs: 2000 },
  UPSTREAM_ERROR: { status: 502, message: 'The instance answered with an error the relay could not read.', hint: 'Retry once; if it persists, report it to the operator.' },
  RESPONSE_TOO_LARGE: { status: 502, message: 'The response exceeds the transport bound.', hint: 'Ask for less: a smaller limit, or artifacts_get with a smaller length.' },
  DAEMON_UNAVAILABLE: { status: 503, message: 'The local daemon is not reachable.', hint: 'The operator\'s daemon is not running or refused the connector; retry after retryAfterMs.', retryable: true, retryAfterMs: 5000 },
  // Connector handshake
  AUTH_FAILED: { status: 401, message: 'The connector signature did not verify.', hint: 'Check the connector\'s key and enrollment.' },
  SIGNATURE_REPLAYED: { status: 401, message: 'This challenge has already been used or has expired.', hint: 'Start the handshake again with a new challenge.' },
  CLOCK_SKEW: { status: 401, message: 'The connector clock is too far from the relay clock.', hint: 'Fix the connector machine\'s clock.' },
  ENROLLMENT_TOKEN_INVALID: { status: 401, message: 'The enrollment token is invalid, used or expired.', hint: 'Ask the operator for a new enrollment token.' },
  UNSUPPORTED_PROTOCOL_VERSION: { status: 400, message: 'The protocol version is not supported.', hint: 'Upgrade the connector or relay so both speak a common protocol version.' },
  // Service files (install-service, uninstall-service; local CLI only)
  SERVICE_FILE_FOREIGN: { status: 409, message: 'A service file Sluice did not write is in the way.', hint: 'Move the file away, or pass --force to replace (or remove) it.' },
  SERVICE_MANAGER_FAILED: { status: 500, message: 'The service manager (systemctl, launchctl) refused the command.', hint: 'Read its message; the file is written, so run the command shown by hand once the cause is fixed.' },
  SERVICE_VALUE_UNSUPPORTED: { status: 400, message: 'A path or value cannot be written into a service file.', hint: 'Use paths without newlines or other control characters (move node, Sluice or SLUICE_HOME), then run install-service again.' },
  // Server
  INTERNAL: { status: 500, message: 'Internal error.', hint: 'Retry once; if it persists, report it to the operator.' },
  UNAVAILABLE: { status: 503, message: 'The service is shutting down or not ready.', hint: 'Retry after retryAfterMs.', retryable: true, retryAfterMs: 5000 },
  STORAGE_ERROR: { status: 507, message: 'The store could not be written (disk full or read-only?).', hint: 'The operator must free disk space or fix the store; retry later.' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];
export const ErrorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]);

/** The most values an error lists in `allowed` (executor names, attempt ids, instance ids). */
export const MAX_ALLOWED_VALUES = 64;

/**
 * The body every error response carries. `details` holds field-level problems for INVALID_INPUT; `allowed` the
 * values the refused field may take; `retryable` with `retryAfterMs` says whether and when the same call may work.
 */
export const ErrorBody = z.object({
  code: z.string().regex(/^[A-Z][A-Z0-9_]{1,63}$/),
  message: z.string().max(4000),
  hint: z.string().max(1000).optional(),
  retryable: z.boolean().optional(),
  retryAfterMs: z.number().int().min(0).max(86_400_000).optional(),
  allowed: z.array(z.string().max(200)).max(MAX_ALLOWED_VALUES).optional(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).max(50).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** What a refusal may add to its code and message. */
export interface SluiceErrorExtra {
  /** A hint more precise than the catalog's (the daemon's, passed through). */
  hint?: string;
  allowed?: readonly string[];
  retryAfterMs?: number;
}

/** An error that carries a catalog code; servers turn it into its body with the catalog's status. */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorBody['details'];
  readonly hint: string;
  readonly allowed: readonly string[] | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(code: ErrorCode, message?: string, details?: ErrorBody['details'], extra: SluiceErrorExtra = {}) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'SluiceError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = details;
    this.hint = extra.hint ?? ERROR_CATALOG[code].hint;
    this.allowed = extra.allowed ? boundedAllowed(extra.allowed) : undefined;
    this.retryAfterMs = extra.retryAfterMs;
  }

  /** A refusal read back from another part's error body: its code, message, details and `allowed` unchanged. */
  static fromBody(body: ErrorBody): SluiceError {
    const code = isErrorCode(body.code) ? body.code : 'UPSTREAM_ERROR';
    return new SluiceError(code, body.message, body.details, { hint: body.hint, allowed: body.allowed, retryAfterMs: body.retryAfterMs });
  }

  toBody(): ErrorBody {
    const entry: CatalogEntry = ERROR_CATALOG[this.code];
    const retryable = entry.retryable === true;
    const retryAfterMs = retryable ? (this.retryAfterMs ?? entry.retryAfterMs) : undefined;
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      retryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(this.allowed ? { allowed: [...this.allowed] } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** An `allowed` list as the body schema bounds it: at most 64 values of at most 200 characters. */
function boundedAllowed(values: readonly string[]): string[] {
  return values.slice(0, MAX_ALLOWED_VALUES).map((v) => v.slice(0, 200));
}

/** True when a code is in the catalog. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CATALOG, code);
}

/** Turn a zod error into catalog details (bounded, no echo of the input values). */
export function zodDetails(err: z.ZodError): NonNullable<ErrorBody['details']> {
  return err.issues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}
