/** kill -9 rounds of the fault suite by default (each process killed DEFAULT_KILL_ROUNDS / 3 times); SLUICE_FAULT_ROUNDS overrides. */
export const DEFAULT_KILL_ROUNDS = 6;
/**
 * Storage scenarios: full disk under the daemon's API, full disk under a running daemon process mid-attempt, full
 * disk under the relay, read-only home for the CLI.
 */
export const STORAGE_CASES = 4;
/** Crash-window scenarios: the daemon dies between the run-branch compare-and-swap and its record (approval, auto-accept). */
export const CRASH_WINDOW_CASES = 2;
