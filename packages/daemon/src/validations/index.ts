export { runValidation } from './run-validation.js';
export type { ValidationRun, ValidationRunOptions, ValidationSpec } from './run-validation.js';
