/** The daemon version reported by `/healthz` and `sluice --version`. */
export const DAEMON_VERSION = '0.1.0';
