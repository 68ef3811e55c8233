export * from './executor-types.js';
export { getAdapter, simulationAdapter, commandAdapter, claudeCodeAdapter, codexAdapter, aiderAdapter, geminiAdapter } from './adapters.js';
export { preflightExecutor, inspectProgram, findOnPath, parseVersion, compareVersions, inRange, helpHasFlag, PREFLIGHT_TIMEOUT_MS } from './preflight.js';
export type { ProgramReport, PreflightOptions } from './preflight.js';
export { executorFailure, deniedSummary } from './outcome.js';
export type { ExecutorFailure, ExecutorOutcomeCode } from './outcome.js';
export { checkExecutor, checkExecutors } from './check.js';
export type { CheckContext } from './check.js';
