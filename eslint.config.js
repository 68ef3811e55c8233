// @ts-check
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const RUNTIME = ['daemon', 'connector', 'relay'];

const INTERNALS = { group: ['@sluice/*/src/*', '@sluice/*/dist/*', '**/shared-protocol/src/**', '**/node-kit/src/**'], message: 'Import the package entry, not its internals.' };

/** Shipped code never loads the test kit; tests and the bench may. */
const TEST_KIT = { group: ['@sluice/test-kit', '@sluice/test-kit/*', '**/test/kit/**'], message: 'Only tests and the bench may import the test kit.' };

/**
 * `self` may not import the `banned` packages (by name or by path); nobody reaches into a package's src/ or dist/.
 * `extra` adds patterns; with `shipped`, the file is runtime code and may not import the test kit either.
 */
function importBans(self, banned, why, { extra = [], shipped = false } = {}) {
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...banned.map((p) => ({
            group: [`@sluice/${p}`, `@sluice/${p}/*`, `**/packages/${p}/**`, `../../${p}/**`, `../${p}/**`],
            message: `${self} must not import ${p}: ${why}`,
          })),
          ...extra,
          INTERNALS,
          ...(shipped ? [TEST_KIT] : []),
        ],
      },
    ],
  };
}

/** The three runtime packages never import each other: they share @sluice/shared-protocol and @sluice/node-kit. */
const boundaryRules = (self, opts = {}) =>
  importBans(self, RUNTIME.filter((p) => p !== self), 'the runtime packages only share @sluice/shared-protocol and @sluice/node-kit.', opts);

/** Daemon folders below the API: the engine, run rules, services and the ledger never import the HTTP layer or the CLI. */
const DAEMON_LOWER = ['engine', 'runs', 'service', 'store'];
const daemonLayerBan = {
  group: ['../api', '../api/**', '../cli', '../cli/**', '**/daemon/src/api/**', '**/daemon/src/cli/**'],
  message: 'engine/, runs/, service/ and store/ sit below api/ and cli/ and must not import them (see docs/ARCHITECTURE.md).',
};
const daemonLowerRules = boundaryRules('daemon', { extra: [daemonLayerBan], shipped: true });

/** node-kit sits below the three runtime packages: it may import shared-protocol and its own dependencies only. */
const nodeKitRules = (opts = {}) => importBans('node-kit', RUNTIME, 'it sits below the runtime packages and may import only @sluice/shared-protocol.', opts);

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      'import-x/no-cycle': 'error',
      'no-console': 'off',
    },
  },
  ...RUNTIME.map((p) => ({ files: [`packages/${p}/**/*.ts`], rules: boundaryRules(p) })),
  ...RUNTIME.map((p) => ({ files: [`packages/${p}/src/**/*.ts`], rules: boundaryRules(p, { shipped: true }) })),
  // Replaces the daemon's boundary rule for these folders (flat config does not merge one rule's options).
  { files: DAEMON_LOWER.map((d) => `packages/daemon/src/${d}/**/*.ts`), rules: daemonLowerRules },
  { files: ['packages/node-kit/**/*.ts'], rules: nodeKitRules() },
  { files: ['packages/node-kit/src/**/*.ts'], rules: nodeKitRules({ shipped: true }) },
  // The resolver import-x uses cannot load vite's package entry; the build config has no imports of ours to cycle.
  { files: ['packages/console/vite.config.ts'], rules: { 'import-x/no-cycle': 'off' } },
  // The console runs in the browser: it talks to the daemon over HTTP only, and takes nothing but types from the protocol.
  {
    files: ['packages/console/src/**/*.ts', 'packages/console/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@sluice/*', '!@sluice/shared-protocol'], message: 'The console talks to the daemon over HTTP; it imports no Sluice package but protocol types.' },
            { group: ['node:*'], message: 'The console runs in the browser.' },
            INTERNALS,
          ],
          paths: [{ name: '@sluice/shared-protocol', allowTypeImports: true, message: 'Only types: the console bundles no protocol code.' }],
        },
      ],
    },
  },
  {
    files: ['packages/shared-protocol/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@sluice/*', 'fastify', 'ws', 'better-sqlite3', 'pino'], message: 'shared-protocol depends on zod only.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly' } },
  },
);
