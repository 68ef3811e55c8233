export * from './executor-types.js';
export { getAdapter, simulationAdapter, commandAdapter, claudeCodeAdapter, codexAdapter, aiderAdapter, geminiAdapter } from './adapters.js';
export { preflightExecutor, findOnPath, parseVersion, compareVersions } from './preflight.js';
export { executorFailure, deniedSummary } from './outcome.js';
export type { ExecutorFailure, ExecutorOutcomeCode } from './outcome.js';
