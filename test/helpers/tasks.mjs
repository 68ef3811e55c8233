// Task texts for the `simulation` executor. Its mini-language (docs/EXECUTORS.md): lines such as
// `write <path>` followed by a `<<<` … `>>>` block, `delete <path>`, `sleep <ms>`, `summary <text>`, `fail`.
// Other lines are prose, as a planner would write them, and are ignored by the simulation.
import { FIXED_MATH, WRONG_MATH } from './repo.mjs';

/** `write <path>` with a content block. */
export function writeFile(path, content) {
  return `write ${path}\n<<<\n${content.replace(/\n$/, '')}\n>>>`;
}

/** A step that fixes the bug: writes the corrected src/math.js. */
export const FIX_TASK = `Fix the bug in src/math.js so that node test.js passes.
${writeFile('src/math.js', FIXED_MATH)}
summary add() now adds`;

/** A step whose result fails validation: a wrong "fix". */
export const WRONG_FIX_TASK = `Make add() faster.
${writeFile('src/math.js', WRONG_MATH)}
summary add() is faster now`;

/** A step that keeps running until it is cancelled. */
export const LONG_TASK = `Refactor everything, slowly.
sleep 120000`;

/** A step that works for `ms`, then writes the fix. */
export function slowFixTask(ms) {
  return `Fix add(), taking your time.
sleep ${ms}
${writeFile('src/math.js', FIXED_MATH)}`;
}
