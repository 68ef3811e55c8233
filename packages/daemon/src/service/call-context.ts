import { isRemoteActor } from '@sluice/shared-protocol';

/** Who is calling and what they may see. */
export interface CallContext {
  /** Recorded on every ledger row the call writes. */
  actor: string;
  /** Remote calls (through the connector) see only these workspaces; null for local operators. */
  sharedWorkspaces: ReadonlySet<string> | null;
  /** Set when the call came from a signed-in operator console page: the session, recorded in audit rows. */
  consoleSession?: string;
}

/** True when the caller may see a workspace. */
export function canSee(ctx: CallContext, workspaceId: string): boolean {
  return ctx.sharedWorkspaces === null || ctx.sharedWorkspaces.has(workspaceId);
}

/**
 * True when the answer leaves the machine: a call through the connector (it always names the shared workspaces)
 * or one made in a planner's name. Only such calls have secrets withheld; the local operator reads everything.
 */
export function isRemoteCall(ctx: CallContext): boolean {
  return ctx.sharedWorkspaces !== null || isRemoteActor(ctx.actor);
}
