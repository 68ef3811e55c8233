import * as z from 'zod';

/** Who can do something: a planner token, an OAuth subject, the operator at this machine, or a component. */
export const ACTOR_KINDS = ['planner', 'oauth', 'local', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** The kinds a relay may name; `local:` and `system:` mean "done on this machine". */
export const REMOTE_ACTOR_KINDS: readonly ActorKind[] = ['planner', 'oauth'];

/** Longest identity an actor may carry after its `kind:`. */
export const ACTOR_IDENTITY_MAX = 200;

/** The characters of an actor's identity; `+` is the escape of the OAuth encoding. */
const IDENTITY_CHARS = 'A-Za-z0-9._@/:+-';

/** Who did something: `planner:<org>/<token>`, `oauth:<issuer>/<subject>`, `local:<user>` or `system:<component>`. */
export const ACTOR_PATTERN = new RegExp(`^(${ACTOR_KINDS.join('|')}):[${IDENTITY_CHARS}]{1,${ACTOR_IDENTITY_MAX}}$`);
export const Actor = z.string().regex(ACTOR_PATTERN, 'must be kind:identity');

/** The kind of a well-formed actor, or null. */
export function actorKind(actor: string): ActorKind | null {
  return ACTOR_PATTERN.test(actor) ? (actor.slice(0, actor.indexOf(':')) as ActorKind) : null;
}

/** An actor of a kind; the identity must already be in the actor alphabet. */
export function actorOf(kind: ActorKind, identity: string): string {
  return `${kind}:${identity}`;
}

/** Whether a relay may act as this actor (a planner, never the operator or the system). */
export function isRemoteActor(actor: string): boolean {
  const kind = actorKind(actor);
  return kind !== null && REMOTE_ACTOR_KINDS.includes(kind);
}

/** Longest user name a `local:` actor keeps. */
export const LOCAL_USER_MAX = 64;
const LOCAL_USER_UNSAFE = /[^A-Za-z0-9._@-]/g;

/**
 * A login name as a `local:` identity: characters outside a small alphabet become `_` (no `/`, `:` or `+`, which
 * other kinds use as separators or escapes), at most LOCAL_USER_MAX of them, and `operator` when nothing is left.
 */
export function sanitizeLocalUser(name: string): string {
  return name.replace(LOCAL_USER_UNSAFE, '_').slice(0, LOCAL_USER_MAX) || 'operator';
}

/** The operator at this machine, by login name. */
export function localActor(user: string): string {
  return actorOf('local', sanitizeLocalUser(user));
}

/** A planner acting with a relay token of an organisation. */
export function plannerActor(orgId: string, tokenId: string): string {
  return actorOf('planner', `${orgId}/${tokenId}`);
}

/** A component of Sluice acting on its own (`engine`, `daemon`, `relay-auth`...). */
export function systemActor(component: string): string {
  return actorOf('system', component);
}
