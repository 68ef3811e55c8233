// Task texts for the `simulation` executor (its mini-language is documented in docs/EXECUTORS.md).
import { FIXED_MATH, WRONG_MATH } from './repo.mjs';

/** A step that fixes the bug: writes the corrected src/math.js. */
export const FIX_TASK = `Fix the bug in src/math.js so that node test.js passes.
write src/math.js
${FIXED_MATH}`;

/** A step whose result fails validation: a wrong "fix". */
export const WRONG_FIX_TASK = `Make add() faster.
write src/math.js
${WRONG_MATH}`;

/** A step that keeps running until it is cancelled. */
export const LONG_TASK = `Refactor everything, slowly.
sleep 120000`;
