import * as z from 'zod';
import { LIMITS } from './limits.js';

/** Id prefixes by kind. Ids are `<prefix>_<26 Crockford base32 chars>` (a ULID), so they sort by creation time. */
export const ID_PREFIX = {
  run: 'run',
  step: 'stp',
  attempt: 'att',
  gate: 'gat',
  artifact: 'art',
  instance: 'ins',
  org: 'org',
  token: 'tok',
  admin: 'adm',
} as const;
export type IdKind = keyof typeof ID_PREFIX;

const ULID_BODY = '[0-9A-HJKMNP-TV-Z]{26}';

/** The strict pattern for one kind of id. */
export function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${ID_PREFIX[kind]}_${ULID_BODY}$`);
}

function idSchema(kind: IdKind) {
  return z.string().regex(idPattern(kind), `must be a ${kind} id (${ID_PREFIX[kind]}_ followed by 26 base32 characters)`);
}

export const RunId = idSchema('run');
export const StepId = idSchema('step');
export const AttemptId = idSchema('attempt');
export const GateId = idSchema('gate');
export const ArtifactId = idSchema('artifact');
export const InstanceId = idSchema('instance');
export const OrgId = idSchema('org');
export const TokenId = idSchema('token');

/**
 * Operator-chosen names: workspaces, executors, validations. A safe alphabet that cannot spell a path
 * (`..`, `/`) or hide characters.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const Name = z
  .string()
  .max(LIMITS.nameLength)
  .regex(NAME_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . - and start with a letter or digit')
  .refine((s) => !s.includes('..'), 'must not contain ".."');

/** `sha256:<64 lowercase hex>` */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
export const Digest = z.string().regex(DIGEST_PATTERN, 'must be sha256: followed by 64 lowercase hex digits');

/** A git ref or commit the planner may name as a run's base. No option-looking or path-escaping refs. */
export const GitRef = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a branch, tag or commit name')
  .refine((s) => !s.includes('..') && !s.includes('//') && !s.endsWith('.lock') && !s.endsWith('/') && !s.includes('@{'), 'is not a valid ref name');

/** Crockford base32 alphabet used by ULIDs. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Build a new id of a kind: 48-bit time + 80 random bits, as a ULID. */
export function newId(kind: IdKind, randomBytes: (n: number) => Uint8Array, now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i]! % 32]!;
  return `${ID_PREFIX[kind]}_${time}${rand}`;
}
