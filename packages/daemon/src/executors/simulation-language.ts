/**
 * What the simulation executor's task text is, for planners (`workspaces.describe`). The script itself
 * (simulation-script.ts) is the one that obeys it; docs/EXECUTORS.md has the full table.
 */
export const SIMULATION_LANGUAGE = [
  'The task text is a small line-based language, not English: the simulation acts on these lines only and ignores every other line.',
  'Directives (each a whole line): `write <path>` followed by a block (a line `<<<`, the file content, a line `>>>`) writes that file; `append <path>` + block appends; `delete <path>`; `sleep <ms>`; `log <text>`; `summary <text>` (the attempt summary); `fail [message]` (exit 1); `exit <code>`.',
  'Paths are relative to the repository root. A task with no directive fails TASK_NOT_UNDERSTOOD.',
  'Example task:',
  '```',
  'Fix add() in src/math.js.',
  'write src/math.js',
  '<<<',
  'export const add = (a, b) => a + b;',
  '>>>',
  'summary add() now adds',
  '```',
].join('\n');

/** The line the script prints when the task held no directive, and the failure it maps to. */
export const SIMULATION_NOT_UNDERSTOOD_PREFIX = '[sim] not understood: ';
export const SIMULATION_NOT_UNDERSTOOD_MESSAGE =
  'the task has no simulation directive (write <path> with a <<< >>> block, append, delete, sleep, log, summary, fail, exit), so nothing would change; see workspaces.describe for the language';
