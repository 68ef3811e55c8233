import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '@sluice/shared-protocol';
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

  it('says loudly, in its log and in status, that a session with the same key took over, and what to do if it was not the operator', async () => {
    t = await TestEnv.start();
    await t.enrollAndShare();
    const p = start({ ...t.env, SLUICE_LOG_LEVEL: 'info' });
    const s = await t.relay.waitForSession(1);
    s.ws.close(CLOSE_CODES.replaced, 'replaced by a newer session of this instance from 203.0.113.9');
    const { code, stderr } = await p.done;
    expect(code).toBe(EXIT_CODES.replaced);
    const line = stderr.split('\n').find((l) => l.includes('"level":50') && l.includes('CONNECTION_REPLACED'));
    expect(line).toBeDefined();
    expect(line).toContain('a session with the same instance key connected from elsewhere');
    expect(line).toContain('revoke the instance');
    expect(line).toContain('from 203.0.113.9');
    const status = await t.cli(['status', '--json']);
    const report = JSON.parse(status.out) as { sessionReplaced: { message: string } | null; problems: string[] };
    expect(report.sessionReplaced?.message).toMatch(/from 203\.0\.113\.9 .*if that was not you, the key is stolen: revoke the instance/);
    expect(report.problems.some((pr) => pr.startsWith('CONNECTION_REPLACED at '))).toBe(true);
  });
});
