/** Who is calling: a planner token of an org, or a JWT of the configured OAuth issuer mapped to an org. */
export interface Principal {
  kind: 'token' | 'oauth';
  orgId: string;
  /** `planner:<orgId>/<tokenId>` or `oauth:<issuer>/<subject>`. */
  actor: string;
  scopes: readonly string[];
  /** Instances this caller may reach; null means every instance of the org. */
  instanceAllowlist: readonly string[] | null;
  tokenId?: string;
}

/** True when the principal may reach the instance (same org is checked separately). */
export function mayUseInstance(p: Principal, instanceId: string): boolean {
  return p.instanceAllowlist === null || p.instanceAllowlist.includes(instanceId);
}
