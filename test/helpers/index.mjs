// The end-to-end harness, shared by `scripts/demo.mjs` and `test/e2e/*.test.ts`.
export * from './proc.mjs';
export * from './repo.mjs';
export * from './planner.mjs';
export * from './stack.mjs';
export * from './tasks.mjs';
