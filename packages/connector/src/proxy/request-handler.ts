import type { Logger } from 'pino';
import { LIMITS } from '@sluice/shared-protocol';
import type { ErrorBody, RequestFrame, ResponseFrame } from '@sluice/shared-protocol';
import type { DaemonClient } from '../upstream/daemon-client.js';
import { validateRequest } from './validate-request.js';

/** Room left in a frame for the response envelope around the daemon's output. */
const ENVELOPE_BYTES = 1024;
/** Answer a little before the relay's own deadline so the planner gets our clearer error, not a generic one. */
const DEADLINE_MARGIN_MS = 200;

/**
 * Turn one relay request into one response frame: validate, then forward to the daemon with the actor and share
 * list. Never throws; every outcome is a response frame of at most `LIMITS.frameBytes` bytes.
 */
export async function handleRequest(
  frame: RequestFrame,
  deps: { daemon: DaemonClient; shares: readonly string[]; log: Logger },
): Promise<string> {
  const checked = validateRequest(frame, deps.shares);
  if (!checked.ok) {
    deps.log.warn({ requestId: frame.id, code: checked.error.code }, 'request refused before reaching the daemon');
    return encode(frame.id, { ok: false, error: checked.error });
  }
  const started = Date.now();
  const result = await deps.daemon.callVerb(checked.verb, checked.input, {
    actor: frame.actor,
    shares: deps.shares,
    timeoutMs: Math.max(1, frame.deadlineMs - DEADLINE_MARGIN_MS),
    maxBytes: LIMITS.frameBytes - ENVELOPE_BYTES,
  });
  // Per-request lines cost a quarter of the hop's CPU at info; the daemon's ledger already records every call.
  const line = { requestId: frame.id, verb: checked.verb, ok: result.ok, code: result.ok ? undefined : result.error.code, ms: Date.now() - started };
  if (result.ok) deps.log.debug(line, 'request forwarded to the daemon');
  else deps.log.info(line, 'request forwarded to the daemon');
  return encode(frame.id, result.ok ? { ok: true, output: result.output } : { ok: false, error: result.error });
}

/** Serialize a response frame; one that would exceed the frame bound becomes `RESPONSE_TOO_LARGE`. */
export function encode(id: string, body: { ok: true; output: unknown } | { ok: false; error: ErrorBody }): string {
  const frame: ResponseFrame = body.ok ? { type: 'response', id, ok: true, output: body.output } : { type: 'response', id, ok: false, error: body.error };
  const text = JSON.stringify(frame);
  if (Buffer.byteLength(text, 'utf8') <= LIMITS.frameBytes) return text;
  return JSON.stringify({ type: 'response', id, ok: false, error: { code: 'RESPONSE_TOO_LARGE', message: `the response exceeds ${LIMITS.frameBytes} bytes` } });
}
