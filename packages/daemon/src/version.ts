import { SLUICE_VERSION } from '@sluice/shared-protocol';

/** The daemon version reported by `/healthz` and `sluice --version`. */
export const DAEMON_VERSION = SLUICE_VERSION;
