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
