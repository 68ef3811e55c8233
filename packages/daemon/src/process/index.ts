export { BASE_ENV_ALLOWLIST, buildChildEnv } from './child-env.js';
export { spawnSupervised } from './supervisor.js';
export type { ProcessResult, SpawnSpec, SupervisedProcess } from './supervisor.js';
