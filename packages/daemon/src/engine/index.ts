export { ExecutionEngine } from './engine.js';
export { ENGINE_ACTOR, type EngineDeps, type EngineOptions, type EngineLogger } from './engine-types.js';
export { fastForwardRun } from '../service/run-branch.js';
export { daemonEngine, type DaemonEngine } from './daemon-engine.js';
