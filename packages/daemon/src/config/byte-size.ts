import * as z from 'zod';

const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;
const BYTE_SIZE = /^(\d{1,9})(B|KiB|MiB|GiB)$/;

/** Parse `"16MiB"`, `"512KiB"`, `"1GiB"`, `"100B"` into bytes; throws on anything else. */
export function parseByteSize(text: string): number {
  const m = BYTE_SIZE.exec(text);
  if (!m) throw new Error('not a size: use a number followed by B, KiB, MiB or GiB (e.g. "16MiB")');
  return Number(m[1]) * UNIT_BYTES[m[2] as keyof typeof UNIT_BYTES];
}

/** A size in config: `"16MiB"` style text compiled to bytes. */
export const ByteSize = z
  .string()
  .regex(BYTE_SIZE, 'must be a size such as "16MiB" or "512KiB"')
  .transform((s) => parseByteSize(s));
