import { describe, expect, it } from 'vitest';
import {
  ACTOR_IDENTITY_MAX, ACTOR_KINDS, ACTOR_PATTERN, LOCAL_USER_MAX, actorKind, actorOf, isRemoteActor, localActor, plannerActor,
  sanitizeLocalUser, systemActor,
} from '@sluice/shared-protocol';

describe('actors', () => {
  it('builds one actor of each kind that the pattern accepts', () => {
    const built = [localActor('alice'), plannerActor('org_1', 'tok_2'), systemActor('engine'), actorOf('oauth', 'issuer.example/sub')];
    expect(built).toEqual(['local:alice', 'planner:org_1/tok_2', 'system:engine', 'oauth:issuer.example/sub']);
    for (const a of built) expect(a).toMatch(ACTOR_PATTERN);
    expect(built.map(actorKind)).toEqual(['local', 'planner', 'system', 'oauth']);
    expect(new Set(built.map(actorKind))).toEqual(new Set(ACTOR_KINDS));
  });

  it('refuses unknown kinds, empty and over-long identities', () => {
    for (const bad of ['admin:x', 'local:', 'local', `system:${'a'.repeat(ACTOR_IDENTITY_MAX + 1)}`, 'local:a b']) expect(actorKind(bad)).toBeNull();
    expect(actorKind(`system:${'a'.repeat(ACTOR_IDENTITY_MAX)}`)).toBe('system');
  });

  it('lets a relay name planners only', () => {
    expect([plannerActor('o', 't'), actorOf('oauth', 'h/s')].every(isRemoteActor)).toBe(true);
    expect([localActor('root'), systemActor('daemon'), 'planner:', 'planner x'].some(isRemoteActor)).toBe(false);
  });

  it('sanitizes a login name into a short local identity without separators or escapes', () => {
    expect(sanitizeLocalUser('DOMAIN\\j.doe@corp')).toBe('DOMAIN_j.doe@corp');
    expect(sanitizeLocalUser('a/b:c+d e')).toBe('a_b_c_d_e');
    expect(sanitizeLocalUser('')).toBe('operator');
    expect(sanitizeLocalUser('x'.repeat(300))).toHaveLength(LOCAL_USER_MAX);
    expect(localActor('ünïcode')).toBe('local:_n_code');
    for (const name of ['', 'a/b', '\u0000\n', 'x'.repeat(500), 'José']) expect(localActor(name)).toMatch(ACTOR_PATTERN);
  });
});
