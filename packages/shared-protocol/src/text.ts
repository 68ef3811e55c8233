import * as z from 'zod';

/**
 * Characters refused in planner text: C0 controls other than tab/newline/CR, DEL, and the Unicode bidi
 * overrides and isolates that can make a task read differently to a human than to an agent ("Trojan source").
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/;

/**
 * Characters that are invisible in a name shown to a human: zero-width spaces and joiners, directional marks, word
 * joiners and the byte-order mark. Two names that differ only by these look the same in a list.
 */
const INVISIBLE_IN_NAME = /[\u061C\u180E\u200B-\u200F\u2060-\u2064\uFEFF]/;

/** UTF-8 length of a string, without depending on Buffer. */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Free text from a planner, bounded in UTF-8 bytes and free of control and bidi-override characters. */
export function safeText(maxBytes: number, opts: { min?: number } = {}) {
  return z
    .string()
    .min(opts.min ?? 0)
    .refine((s) => utf8Length(s) <= maxBytes, `must be at most ${maxBytes} bytes of UTF-8`)
    .refine((s) => !FORBIDDEN_TEXT.test(s), 'must not contain control characters or bidi overrides');
}

/** A display name (instances, orgs): the planner-text rule, without invisible characters, not blank. */
export function safeName(maxBytes: number) {
  return safeText(maxBytes, { min: 1 })
    .refine((s) => !INVISIBLE_IN_NAME.test(s), 'must not contain zero-width or other invisible characters')
    .refine((s) => s.trim().length > 0, 'must not be blank');
}
