import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '@sluice/shared-protocol';
import { FakeConnector } from '@sluice/test-kit';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** The longest heartbeat the relay accepts: its tick cannot be what closes a session within a test. */
const HEARTBEAT_MS = '300000';

function cli(db: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--db', db, ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function cliJson<T>(db: string, ...args: string[]): T {
  const r = spawnSync(process.execPath, [BIN, '--db', db, '--json', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sluice-relay ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `sluice-relay start` on the database; resolves with its origin once it listens. */
function startRelay(db: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [BIN, '--db', db, 'start', '--port', '0', '--heartbeat-ms', HEARTBEAT_MS, '--log-level', 'info']);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"msg":"sluice relay listening"'));
      if (line) resolve({ proc, url: (JSON.parse(line) as { origin: string }).origin });
    });
    proc.on('exit', (code) => reject(new Error(`relay exited ${code}: ${out}`)));
  });
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

describe('the CLI reaches the relay running on its database', () => {
  let dir: string;
  let db: string;
  let relay: { proc: ChildProcess; url: string };
  let c: FakeConnector;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-relay-live-'));
    db = join(dir, 'relay.db');
    const org = cliJson<{ orgId: string }>(db, 'org', 'create', 'acme');
    const enr = cliJson<{ token: string }>(db, 'enroll-token', 'create', '--org', org.orgId);
    relay = await startRelay(db);
    c = new FakeConnector(relay.url);
    expect((await c.enroll(enr.token)).status).toBe(200);
    expect((await c.connect()).type).toBe('welcome');
  });
  afterEach(async () => {
    c.close();
    await stop(relay.proc);
    rmSync(dir, { recursive: true, force: true });
  });

  it('`instance revoke` closes the connected connector at once with the revoked close code', async () => {
    const r = await cli(db, '--json', 'instance', 'revoke', c.instanceId);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ instanceId: c.instanceId, state: 'revoked', closedSessions: 1 });
    expect(await c.waitClose()).toBe(CLOSE_CODES.revoked);
  });

  it('`instance disable` closes it with the disabled close code and says so; `enable` lets it connect again', async () => {
    const r = await cli(db, 'instance', 'disable', c.instanceId);
    expect(r.out).toContain('the running relay closed its live session');
    expect(await c.waitClose()).toBe(CLOSE_CODES.disabled);
    expect((await cli(db, 'instance', 'enable', c.instanceId)).code).toBe(0);
    expect((await c.connect()).type).toBe('welcome');
  });

  it('the socket is mode 600 and a line that is not a notice closes nothing', async () => {
    const path = `${db}.sock`;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const answer = await new Promise<string>((resolve) => {
      const s = createConnection(path, () => s.write('{"instanceChanged":"../../etc"}\n'));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('close', () => resolve(text));
    });
    expect(answer).toBe('');
    expect(c.closeCode).toBeUndefined();
    // The relay still serves its socket.
    expect(JSON.parse((await cli(db, '--json', 'instance', 'revoke', c.instanceId)).out)).toMatchObject({ closedSessions: 1 });
  });

  it('without a running relay the CLI changes the store and says no relay was reached; a relay started later removes the stale socket', async () => {
    relay.proc.kill('SIGKILL');
    await new Promise((r) => relay.proc.once('exit', r));
    const r = await cli(db, 'instance', 'disable', c.instanceId);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('no relay listens on this database');
    relay = await startRelay(db);
    expect(statSync(`${db}.sock`).mode & 0o777).toBe(0o600);
  });
});
