/** Exit codes of `sluice daemon start` beyond 0 and 1, stable so a service manager can tell them apart. */
export const DAEMON_EXIT_CODES = {
  /** config.json, SLUICE_HOME or a flag is invalid: starting again fails the same way (sysexits' EX_CONFIG). */
  misconfigured: 78,
} as const;
