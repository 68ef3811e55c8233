import * as z from 'zod';

/** Every scope a planner token can hold. */
export const SCOPES = ['runs:read', 'runs:write', 'runs:cancel', 'gates:decide', 'artifacts:read', 'audit:read', 'admin'] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;
/** Every scope but `admin`: what a planner that drives runs end to end holds. */
export const PLANNER_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== 'admin');

/** True when the held scopes satisfy the required one; `admin` satisfies every scope. */
export function hasScope(held: readonly string[], required: Scope): boolean {
  return held.includes(required) || held.includes('admin');
}
