export * from './error-mapper.js';
export * from './shutdown-signals.js';
export * from './verb-input-hash.js';
