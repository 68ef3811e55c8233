/**
 * The Sluice release every program reports (`--version`, `/healthz`, the connector's hello). The root and package
 * `package.json` files carry the same string; a test keeps them equal.
 */
export const SLUICE_VERSION = '0.2.0';
