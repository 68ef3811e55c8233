import { SLUICE_VERSION } from '@sluice/shared-protocol';

/** The relay's version, reported by /healthz, MCP and the CLI. */
export const RELAY_VERSION = SLUICE_VERSION;
