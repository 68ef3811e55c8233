import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerbInput, VerbName, VerbOutput } from '@sluice/shared-protocol';
import { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import { parseConfig } from '../../src/config/index.js';
import type { DaemonConfigInput } from '../../src/config/index.js';
import { ExecutionEngine } from '../../src/engine/index.js';
import { ensureRuntime, type RuntimePaths } from '../../src/home/runtime-dir.js';
import type { EngineOptions } from '../../src/engine/index.js';
import { ConfigHolder } from '../../src/config/config-holder.js';
import { VerbService } from '../../src/service/verb-service.js';
import { Store, openDatabase } from '../../src/store/index.js';
import { makeRepo } from '@sluice/test-kit';

export const BUGGY_MATH = 'export const add = (a, b) => a - b;\n';
export const FIXED_MATH = 'export const add = (a, b) => a + b;\n';
const TEST_JS = `import { add } from './src/math.js';\nif (add(2, 2) !== 4) { console.log('FAIL add(2,2)=' + add(2, 2)); process.exit(1); }\nconsole.log('ok');\n`;

/** A simulation task that writes a file. */
export function writeTask(path: string, content: string, extra = ''): string {
  return `write ${path}\n<<<\n${content.replace(/\n$/, '')}\n>>>\n${extra}`;
}

/** A daemon without HTTP: real SQLite, real artifact store, the real verb service and engine, a real repo. */
export class EngineHarness {
  readonly dir: string;
  readonly home: string;
  readonly repo: string;
  readonly base: string;
  /** Where attempts run: outside the home, as the daemon does it. */
  readonly runtime: RuntimePaths;
  store!: Store;
  artifacts!: ArtifactStore;
  engine!: ExecutionEngine;
  service!: VerbService;
  readonly config: ConfigHolder;

  constructor(opts: { workspace?: Record<string, unknown>; daemon?: Partial<DaemonConfigInput> } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-engine-'));
    this.home = join(this.dir, 'home');
    mkdirSync(this.home, { recursive: true });
    this.runtime = ensureRuntime(join(this.dir, 'run'), this.home);
    this.repo = join(this.dir, 'repo');
    this.base = makeRepo(this.repo, { 'src/math.js': BUGGY_MATH, 'test.js': TEST_JS, 'package.json': '{"type":"module"}\n' }).head;
    this.config = new ConfigHolder(
      parseConfig({
        concurrency: 4,
        cancelGrace: '300ms',
        ...opts.daemon,
        workspaces: {
          demo: {
            path: this.repo,
            name: 'demo',
            executors: { sim: { adapter: 'simulation' } },
            validations: { test: { argv: [process.execPath, 'test.js'], timeout: '30s' } },
            allowSimulationWithValidations: true,
            concurrency: 4,
            ...opts.workspace,
          },
        },
      }),
    );
  }

  /** Open the store and start the engine (again, after `crash()`). */
  async start(engineOpts: EngineOptions = {}): Promise<this> {
    this.store = new Store(openDatabase(join(this.home, 'state.db')));
    this.artifacts = new ArtifactStore(join(this.home, 'artifacts'));
    this.engine = new ExecutionEngine(
      { store: this.store, artifacts: this.artifacts, config: this.config, attemptsDir: this.runtime.attempts, worktreesDir: this.runtime.worktrees, homeDir: this.home },
      engineOpts,
    );
    this.service = new VerbService({ store: this.store, artifacts: this.artifacts, engine: this.engine, config: this.config });
    await this.engine.start();
    return this;
  }

  call<V extends Exclude<VerbName, 'instances.list'>>(verb: V, input: VerbInput<V>, actor = 'local:tester'): Promise<VerbOutput<V>> {
    return this.service.call(verb, input, { actor, sharedWorkspaces: null });
  }

  /** Wait until the step settles (steps.wait loops until then). */
  async settle(stepId: string) {
    for (;;) {
      const s = await this.call('steps.wait', { stepId, timeoutMs: 10_000 });
      if (s.settled) return s;
    }
  }

  /** Wait for an attempt to reach a state. */
  async attemptIn(attemptId: string, states: string[], ms = 15_000) {
    const end = Date.now() + ms;
    for (;;) {
      const a = this.store.getAttempt(attemptId)!;
      if (states.includes(a.state)) return a;
      if (Date.now() > end) throw new Error(`attempt ${attemptId} stayed ${a.state}`);
      await this.store.bus.waitFor(() => true, 200);
    }
  }

  async artifactText(attemptId: string, kind: string): Promise<string> {
    const ref = this.store.getAttemptDetail(attemptId)!.artifacts.find((r) => r.kind === kind);
    if (!ref) throw new Error(`no ${kind} artifact`);
    return (await this.artifacts.read(ref.digest, 0, 1 << 22)).data.toString('utf8');
  }

  writeRepoFile(path: string, content: string): void {
    writeFileSync(join(this.repo, path), content);
  }

  async stop(): Promise<void> {
    await this.engine.close();
    this.store.close();
  }

  async cleanup(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
