import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildChildEnv, spawnSupervised } from '../src/process/index.js';
import { eventually, isAlive } from './helpers-exec/proc.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-proc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function spec(script: string, extra: Partial<Parameters<typeof spawnSupervised>[0]> = {}) {
  return {
    argv: [process.execPath, '-e', script],
    cwd: dir,
    env: buildChildEnv(),
    stdoutPath: join(dir, 'out'),
    stderrPath: join(dir, 'err'),
    outputCapBytes: 1024 * 1024,
    graceMs: 300,
    ...extra,
  };
}

describe('spawnSupervised', () => {
  it('stops a child that prints nothing for idleTimeoutMs (stalled), and not one that keeps printing', async () => {
    const stuck = await spawnSupervised(spec(`console.log('started'); setTimeout(() => {}, 60000)`, { idleTimeoutMs: 500 })).done;
    expect(stuck.stalled).toBe(true);
    expect(stuck.signal).toBe('SIGTERM');
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('started\n');
    const chatty = await spawnSupervised(spec(`let n = 0; const t = setInterval(() => { console.log(n); if (++n === 8) { clearInterval(t); } }, 50)`, { idleTimeoutMs: 2000 })).done;
    expect(chatty.stalled).toBe(false);
    expect(chatty.exitCode).toBe(0);
  });

  it('passes stdin, runs in cwd, captures stdout and stderr, reports the exit code', async () => {
    const p = spawnSupervised(
      spec(`let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{console.log('got:'+s+' in '+process.cwd());console.error('warn');process.exit(3)})`, {
        stdin: 'hello',
      }),
    );
    const r = await p.done;
    expect(r.exitCode).toBe(3);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(`got:hello in ${dir}\n`);
    expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('warn\n');
    expect(r.cancelled).toBe(false);
  });

  it('gives the child only allowlisted variables plus the pass-through names', async () => {
    const env = buildChildEnv(['SLUICE_TEST_PASS'], { SLUICE_TASK_FILE: '/x' }, { PATH: '/usr/bin:/bin', SLUICE_TEST_PASS: 'yes', SECRET_TOKEN: 'no', TERM: 'xterm' });
    const p = spawnSupervised(spec(`console.log(JSON.stringify(process.env))`, { env }));
    await p.done;
    const seen = JSON.parse(readFileSync(join(dir, 'out'), 'utf8')) as Record<string, string>;
    expect(seen.SLUICE_TEST_PASS).toBe('yes');
    expect(seen.SLUICE_TASK_FILE).toBe('/x');
    expect(seen.SECRET_TOKEN).toBeUndefined();
    expect(seen.TERM).toBeUndefined();
  });

  it('caps captured output and says it was truncated', async () => {
    const p = spawnSupervised(spec(`process.stdout.write('x'.repeat(5000))`, { outputCapBytes: 100 }));
    const r = await p.done;
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('x'.repeat(100));
    expect(r.stdoutBytes).toBe(5000);
    expect(r.stdoutTruncated).toBe(true);
  });

  it('kills a child that ignores SIGTERM after the grace period and reports only after it exited', async () => {
    const p = spawnSupervised(spec(`process.on('SIGTERM',()=>console.log('ignored'));console.log('ready');setInterval(()=>{},1000)`));
    await eventually(() => existsSync(join(dir, 'out')) && readFileSync(join(dir, 'out'), 'utf8').includes('ready'));
    const r = await p.cancel();
    expect(r.cancelled).toBe(true);
    expect(r.killed).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(isAlive(p.pid!)).toBe(false);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toContain('ignored');
  });

  it('a child that exits on SIGTERM is not SIGKILLed', async () => {
    const p = spawnSupervised(spec(`console.log('ready');setInterval(()=>{},1000)`));
    await eventually(() => readFileSync(join(dir, 'out'), 'utf8').includes('ready'));
    const r = await p.cancel();
    expect(r.cancelled).toBe(true);
    expect(r.killed).toBe(false);
    expect(r.signal).toBe('SIGTERM');
  });

  it('leaves no grandchild behind, whether the child exits or is cancelled', async () => {
    const grand = `require('child_process').spawn(process.execPath,['-e','process.on("SIGTERM",()=>{});setInterval(()=>{},1000)'],{stdio:'ignore'})`;
    const a = spawnSupervised(spec(`const c=${grand};console.log(c.pid);setTimeout(()=>process.exit(0),200)`));
    await a.done;
    const pidA = Number(readFileSync(join(dir, 'out'), 'utf8').trim());
    expect(pidA).toBeGreaterThan(0);
    expect(await eventually(() => !isAlive(pidA))).toBe(true);

    const b = spawnSupervised(spec(`const c=${grand};console.log(c.pid);setInterval(()=>{},1000)`, { stdoutPath: join(dir, 'out2') }));
    await eventually(() => existsSync(join(dir, 'out2')) && readFileSync(join(dir, 'out2'), 'utf8').trim().length > 0);
    const pidB = Number(readFileSync(join(dir, 'out2'), 'utf8').trim());
    await b.cancel();
    expect(await eventually(() => !isAlive(pidB))).toBe(true);
  });

  it('runs the kill sequence on timeout and says so', async () => {
    const p = spawnSupervised(spec(`setInterval(()=>{},1000)`, { timeoutMs: 200 }));
    const r = await p.done;
    expect(r.timedOut).toBe(true);
    expect(r.cancelled).toBe(false);
    expect(r.exitCode).toBeNull();
  });

  it('reports a program that does not exist as a spawn error', async () => {
    const p = spawnSupervised({ ...spec(''), argv: ['sluice-no-such-program-xyz'] });
    const r = await p.done;
    expect(r.spawnError?.code).toBe('ENOENT');
  });
});
