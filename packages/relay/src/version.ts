/** The relay's version, reported by /healthz and the CLI. */
export const RELAY_VERSION = '0.1.0';
