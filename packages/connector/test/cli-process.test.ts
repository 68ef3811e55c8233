import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/index.js';
import { TestEnv } from './helpers/env.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

function start(env: NodeJS.ProcessEnv): { done: Promise<{ code: number | null; stderr: string }>; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [BIN, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'], shell: false });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { done, kill: (s) => child.kill(s) };
}

describe('the sluice-connector process (built bin)', () => {
  let t: TestEnv | undefined;
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b packages/connector\` first`);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('says goodbye and exits 0 on SIGTERM', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    const p = start(t.env);
    const s = await t.relay.waitForSession(1);
    p.kill('SIGTERM');
    const { code } = await p.done;
    expect(code).toBe(0);
    expect(s.goodbyes).toEqual([{ type: 'goodbye', reason: 'connector shutting down' }]);
  });

  it('exits with the revoked exit code and a clear message when revoked', async () => {
    t = await TestEnv.start();
    const instanceId = await t.enrollAndShare();
    const p = start(t.env);
    await t.relay.waitForSession(1);
    t.relay.setState(instanceId, 'revoked');
    const { code, stderr } = await p.done;
    expect(code).toBe(EXIT_CODES.revoked);
    expect(stderr).toMatch(/sluice-connector: INSTANCE_REVOKED: .*enroll again/);
  });
});
