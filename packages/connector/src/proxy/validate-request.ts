import { VERBS, isRemoteActor, isVerbName, sharedWorkspaceIds, zodDetails } from '@sluice/shared-protocol';
import type { ErrorBody, RequestFrame, VerbName } from '@sluice/shared-protocol';

export type Validated = { ok: true; verb: VerbName; input: unknown } | { ok: false; error: ErrorBody };

/**
 * Decide whether a relay request may reach the daemon: a verb of the table that an instance serves, input that
 * passes the verb schema, and a workspace on the share list. Runs before any byte goes to the daemon.
 */
export function validateRequest(frame: Pick<RequestFrame, 'verb' | 'input' | 'actor'>, shares: readonly string[]): Validated {
  // `local:` and `system:` rows in the daemon ledger mean "done on this machine"; a relay (even a compromised
  // one) must not be able to write them.
  if (!isRemoteActor(frame.actor)) {
    return { ok: false, error: { code: 'FORBIDDEN', message: 'a relay request must act for a planner (planner:… or oauth:…), never a local operator or the system' } };
  }
  if (!isVerbName(frame.verb) || VERBS[frame.verb].route.kind === 'relay') {
    return { ok: false, error: { code: 'UNKNOWN_VERB', message: 'this connector serves only the verbs of the verb table (see docs/CONNECTOR.md)' } };
  }
  const verb = frame.verb;
  const parsed = VERBS[verb].input.safeParse(frame.input);
  if (!parsed.success) {
    return { ok: false, error: { code: 'INVALID_INPUT', message: `the input of ${verb} does not match its schema`, details: zodDetails(parsed.error) } };
  }
  if (shares.length === 0) {
    return { ok: false, error: { code: 'WORKSPACE_NOT_FOUND', message: 'this instance shares no workspace' } };
  }
  const workspaceId = (parsed.data as { workspaceId?: unknown }).workspaceId;
  if (typeof workspaceId === 'string' && !sharedWorkspaceIds(shares).includes(workspaceId)) {
    return { ok: false, error: { code: 'WORKSPACE_NOT_FOUND', message: 'No such workspace, or it is not shared.' } };
  }
  return { ok: true, verb, input: parsed.data };
}
