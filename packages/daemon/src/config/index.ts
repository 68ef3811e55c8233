export * from './byte-size.js';
export * from './duration.js';
export * from './executor-config.js';
export * from './schema.js';
export * from './load.js';
export * from './workspaces.js';
export * from './config-holder.js';
