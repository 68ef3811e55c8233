/** kill -9 rounds of the fault suite by default (each process killed DEFAULT_KILL_ROUNDS / 3 times); SLUICE_FAULT_ROUNDS overrides. */
export const DEFAULT_KILL_ROUNDS = 6;
/**
 * Time the kill rounds may take: a round is a dispatch, a kill, a restart and a settled step (about 10 s on a busy
 * machine, up to 45 s for the wait alone), so the limit grows with the number of rounds instead of capping 201 kills
 * at the 6-round budget.
 */
export function killRoundsTimeoutMs(rounds: number): number {
  return Math.max(240_000, 60_000 + rounds * 40_000);
}
/** Time the checks after the kills may take: one `runs.close` per round, then the ledger and audit checks. */
export function recoveryChecksTimeoutMs(rounds: number): number {
  return 60_000 + rounds * 2_000;
}
/**
 * Storage scenarios: full disk under the daemon's API, full disk under a running daemon process mid-attempt, full
 * disk under the relay, read-only home for the CLI.
 */
export const STORAGE_CASES = 4;
/** Crash-window scenarios: the daemon dies between the run-branch compare-and-swap and its record (approval, auto-accept). */
export const CRASH_WINDOW_CASES = 2;
