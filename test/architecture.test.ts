import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('lint enforces the architecture', () => {
  it.each([
    ['packages/relay/src/index.ts', "import { x } from '@sluice/daemon';\nexport const y = x;\n"],
    ['packages/daemon/src/index.ts', "import { x } from '@sluice/connector';\nexport const y = x;\n"],
    ['packages/connector/src/index.ts', "import { x } from '../../relay/src/index.js';\nexport const y = x;\n"],
    ['packages/daemon/src/index.ts', "import { x } from '@sluice/shared-protocol/src/verbs.js';\nexport const y = x;\n"],
  ])('%s may not import across the boundary', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-imports');
  });

  it.each([
    ['packages/node-kit/src/index.ts', "import { x } from '@sluice/daemon';\nexport const y = x;\n"],
    ['packages/node-kit/src/index.ts', "import { x } from '@sluice/relay';\nexport const y = x;\n"],
    ['packages/node-kit/src/index.ts', "import { x } from '../../connector/src/index.js';\nexport const y = x;\n"],
    ['packages/relay/src/index.ts', "import { x } from '@sluice/node-kit/src/error-mapper.js';\nexport const y = x;\n"],
  ])('node-kit stays below the runtime packages: %s may not import %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-imports');
  });

  it.each([
    ['packages/daemon/src/engine/engine.ts', "import { buildApp } from '../api/build-app.js';\nexport const b = buildApp;\n"],
    ['packages/daemon/src/runs/state-machine.ts', "import { buildApp } from '../api/build-app.js';\nexport const b = buildApp;\n"],
    ['packages/daemon/src/service/verb-service.ts', "import { registerGcCommand } from '../cli/commands-gc.js';\nexport const r = registerGcCommand;\n"],
    ['packages/daemon/src/store/store.ts', "import type { AppDeps } from '../api/build-app.js';\nexport type A = AppDeps;\n"],
    ['packages/daemon/src/engine/engine.ts', "import { x } from '@sluice/relay';\nexport const y = x;\n"],
  ])('inside the daemon, %s may not import the API or the CLI', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-imports');
  });

  it('the daemon API may import the engine, and the engine the run rules', async () => {
    expect(await ruleIdsFor('packages/daemon/src/api/build-app.ts', "import { ExecutionEngine } from '../engine/engine.js';\nexport const e = ExecutionEngine;\n")).toEqual([]);
    expect(await ruleIdsFor('packages/daemon/src/engine/engine.ts', "import { settleStepIfDone } from '../runs/step-outcome.js';\nexport const s = settleStepIfDone;\n")).toEqual([]);
  });

  it('node-kit may import shared-protocol; the runtime packages may import node-kit', async () => {
    expect(await ruleIdsFor('packages/node-kit/src/index.ts', "import { VERBS } from '@sluice/shared-protocol';\nexport const v = VERBS;\n")).toEqual([]);
    for (const p of ['daemon', 'connector', 'relay']) {
      expect(await ruleIdsFor(`packages/${p}/src/index.ts`, "import { SHUTDOWN_EXIT_CODES } from '@sluice/node-kit';\nexport const c = SHUTDOWN_EXIT_CODES;\n"), p).toEqual([]);
    }
  });

  it.each([
    ['packages/daemon/src/index.ts', "import { makeRepo } from '@sluice/test-kit';\nexport const m = makeRepo;\n"],
    ['packages/relay/src/index.ts', "import { FakeConnector } from '@sluice/test-kit';\nexport const c = FakeConnector;\n"],
    ['packages/connector/src/index.ts', "import { FakeRelay } from '../../../test/kit/src/fake-relay.js';\nexport const r = FakeRelay;\n"],
    ['packages/node-kit/src/index.ts', "import { waitUntil } from '@sluice/test-kit';\nexport const w = waitUntil;\n"],
    ['packages/shared-protocol/src/index.ts', "import { fakeId } from '@sluice/test-kit';\nexport const f = fakeId;\n"],
  ])('shipped code never loads the test kit: %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-imports');
  });

  it('tests and the bench may import the test kit', async () => {
    for (const file of ['packages/daemon/test/store-ledger.test.ts', 'packages/relay/test/helpers.ts', 'test/hostile/frames.test.ts']) {
      expect(await ruleIdsFor(file, "import { makeRepo } from '@sluice/test-kit';\nexport const m = makeRepo;\n"), file).toEqual([]);
    }
  });

  it('shared-protocol may import nothing but zod', async () => {
    expect(await ruleIdsFor('packages/shared-protocol/src/index.ts', "import Fastify from 'fastify';\nexport const f = Fastify;\n")).toContain('no-restricted-imports');
  });

  it('flags floating promises', async () => {
    const ids = await ruleIdsFor('packages/daemon/src/index.ts', 'async function f(): Promise<void> {}\nf();\nexport {};\n');
    expect(ids).toContain('@typescript-eslint/no-floating-promises');
  });

  it('allows the shared protocol from a runtime package', async () => {
    expect(await ruleIdsFor('packages/relay/src/index.ts', "import { VERBS } from '@sluice/shared-protocol';\nexport const v = VERBS;\n")).toEqual([]);
  });
});
