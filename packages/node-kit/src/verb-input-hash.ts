import { createHash } from 'node:crypto';
import { canonicalVerbInput, type VerbName } from '@sluice/shared-protocol';

/** sha256 (hex) of a parsed verb input's canonical form: equal exactly for "the same request". */
export function verbInputHash(verb: VerbName, input: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalVerbInput(verb, input)).digest('hex');
}
