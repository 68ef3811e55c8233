export * from './store/index.js';
export * from './config/index.js';
