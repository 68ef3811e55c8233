import * as z from 'zod';
import { DURATION_PATTERN, parseDuration } from '@sluice/node-kit';

export { parseDuration };

/** A duration in config: `"10m"` style text compiled to milliseconds. */
export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as "30s" or "10m"')
  .transform((s) => parseDuration(s));
