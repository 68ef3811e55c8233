export { ExecutionEngine } from './engine.js';
export { ENGINE_ACTOR, type EngineContext, type EngineDeps, type EngineOptions, type EngineLogger } from './engine-types.js';
export { fastForwardRun } from '../runs/run-branch.js';
export { daemonEngine, type DaemonEngine } from './daemon-engine.js';
