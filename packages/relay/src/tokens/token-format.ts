import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Kinds of secret the relay hands out, by prefix. */
export const TOKEN_PREFIX = { planner: 'slc_pat_', enrollment: 'slc_enr_' } as const;
export type TokenKind = keyof typeof TOKEN_PREFIX;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32 (IEEE) of a string's UTF-8 bytes. */
export function crc32(text: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(text, 'utf8')) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  let s = '';
  let v = n;
  for (let i = 0; i < width; i++) {
    s = BASE62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s;
}

function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniformly likely.
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += BASE62[b % 62]!;
    }
  }
  return out;
}

/** A new secret of a kind: prefix + 32 random base62 characters + a 6-character CRC32 checksum. */
export function generateSecret(kind: TokenKind): string {
  const prefix = TOKEN_PREFIX[kind];
  const body = randomBase62(BODY_LENGTH);
  return `${prefix}${body}${base62(crc32(prefix + body), CHECKSUM_LENGTH)}`;
}

/**
 * True when a presented secret has the right prefix, shape and checksum. Checked before any database look-up,
 * so typos and random strings never reach the store, and secret scanners can recognise real tokens.
 */
export function isWellFormedSecret(kind: TokenKind, secret: string): boolean {
  const prefix = TOKEN_PREFIX[kind];
  if (secret.length !== prefix.length + BODY_LENGTH + CHECKSUM_LENGTH || !secret.startsWith(prefix)) return false;
  const body = secret.slice(prefix.length, prefix.length + BODY_LENGTH);
  const check = secret.slice(prefix.length + BODY_LENGTH);
  if (!/^[0-9A-Za-z]+$/.test(body + check)) return false;
  return base62(crc32(prefix + body), CHECKSUM_LENGTH) === check;
}

/** SHA-256 hex of a secret: what the store keeps, and what failed-auth audit rows carry. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}
