import { SluiceError } from '@sluice/shared-protocol';

/** Who is calling: a planner token of an org, a JWT of the configured OAuth issuer, or a grant of the built-in one. */
export interface Principal {
  kind: 'token' | 'oauth';
  orgId: string;
  /** `planner:<orgId>/<tokenId>`, `oauth:<issuer>/<subject>` or `oauth:<orgId>/<grantId>`. */
  actor: string;
  scopes: readonly string[];
  /** Instances this caller may reach; null means every instance of the org. */
  instanceAllowlist: readonly string[] | null;
  tokenId?: string;
  /** A caller with a token of the built-in authorization server: its grant and client. */
  grantId?: string;
  clientId?: string;
}

/** True when the principal may reach the instance (same org is checked separately). */
export function mayUseInstance(p: Principal, instanceId: string): boolean {
  return p.instanceAllowlist === null || p.instanceAllowlist.includes(instanceId);
}

/** Scopes that reach the whole org (every instance's audit rows, sessions and tokens): never with an allowlist. */
export const ORG_WIDE_SCOPES = ['admin', 'audit:read'] as const;

/** Refuse an org-wide route to a principal limited to some instances. */
export function requireOrgWide(p: Principal, what: string): void {
  if (p.instanceAllowlist !== null) throw new SluiceError('INSUFFICIENT_SCOPE', `A token limited to some instances cannot use ${what}, which covers the whole org.`);
}
