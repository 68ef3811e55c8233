export * from './error-mapper.js';
export * from './shutdown-signals.js';
export * from './verb-input-hash.js';
export * from './sqlite.js';
export * from './audit-chain.js';
export * from './logger.js';
export * from './duration.js';
export * from './net.js';
