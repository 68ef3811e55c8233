import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BINS, ManagedProcess, REPO_ROOT, git, readJsonIfExists, waitUntil } from '../helpers/index.mjs';

/**
 * Follows the README's "Use it for real" walk-through command by command, as a new user would, in a temporary
 * HOME. The only liberties: `npm ci`/`npm link` are replaced by equivalent wrappers on PATH (the checkout is
 * already built), the servers listen on free ports instead of 7433/8787 (so the test never collides with a real
 * install), the production-only examples (TLS certificates, public hosts, `claude mcp add`) are skipped, and the `…` placeholders are
 * filled with the ids the previous commands printed. The commands themselves run through `sh`, as typed.
 */

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Use it for real'), readme.indexOf('## The security model'));

/** The commands of the ```sh blocks of a text, continuation lines joined, comments dropped. */
function shellCommands(text: string): string[] {
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) =>
    b
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.replace(/\s+#\s.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
const home = join(dir, 'home');
const bin = join(dir, 'bin');
const work = join(dir, 'work');
const background: ManagedProcess[] = [];

afterAll(async () => {
  // Reverse order: connector, relay, daemon.
  for (const p of background.reverse()) await p.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

function sh(cmd: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', cmd], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    // Ctrl-C, as the user would, to the whole command.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('README: use it for real', () => {
  it('every command of the walk-through works when followed in order', async () => {
    mkdirSync(home, { recursive: true });
    mkdirSync(bin);
    mkdirSync(work);
    for (const [name, path] of [
      ['sluice', BINS.sluice],
      ['sluice-relay', BINS.relay],
      ['sluice-connector', BINS.connector],
    ] as const) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${path}" "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    // The user's project: a git repository with `npm test` and `npm run lint`.
    const repo = join(home, 'code', 'my-app');
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'my-app', private: true, scripts: { test: 'node test.js', lint: 'node -e 0' } }));
    writeFileSync(join(repo, 'test.js'), "console.log('ok')\n");
    await git(repo, ['init', '-q', '-b', 'main']);
    await git(repo, ['add', '-A']);
    await git(repo, ['commit', '-q', '-m', 'init']);

    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${bin}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' };
    delete env['SLUICE_HOME'];
    delete env['SLUICE_RELAY_HOME'];
    delete env['SLUICE_CONNECTOR_CONFIG'];
    const ids: Record<string, string> = {};
    let relayUrl = '';
    const fill = (cmd: string) =>
      cmd
        .replace(/http:\/\/127\.0\.0\.1:8787/g, relayUrl || 'http://127.0.0.1:8787')
        .replace(/(org|run|stp|att|slc_enr|slc_pat)_…/g, (m, kind: string) => {
          const v = ids[kind];
          if (!v) throw new Error(`the README uses ${m} before any command printed one`);
          return v;
        });
    const learn = (out: string) => {
      for (const [kind, re] of [
        ['org', /\borg_[0-9A-Z]{26}\b/],
        ['run', /\brun_[0-9A-Z]{26}\b/],
        ['stp', /\bstp_[0-9A-Z]{26}\b/],
        ['att', /\batt_[0-9A-Z]{26}\b/],
        ['slc_enr', /\bslc_enr_[A-Za-z0-9]+/],
        ['slc_pat', /\bslc_pat_[A-Za-z0-9]+/],
      ] as const) {
        const m = re.exec(out);
        if (m && !ids[kind]) ids[kind] = m[0];
      }
    };

    const commands = shellCommands(section);
    expect(commands.length).toBeGreaterThan(20);
    const ran: string[] = [];
    for (const raw of commands) {
      if (/^npm (ci|link)\b/.test(raw) || /--host 0\.0\.0\.0|--tls-cert/.test(raw) || /^claude mcp add/.test(raw)) continue;
      const cmd = fill(raw);
      ran.push(cmd);
      if (cmd === 'sluice daemon start') {
        const p = new ManagedProcess('daemon', [BINS.sluice, 'daemon', 'start', '--port', '0'], { env, cwd: work });
        background.push(p);
        await waitUntil(() => readJsonIfExists(join(home, '.sluice', 'daemon.json')), { what: 'daemon.json', timeoutMs: 20_000 });
      } else if (cmd === 'sluice-relay start') {
        const p = new ManagedProcess('relay', [BINS.relay, 'start', '--port', '0'], { env, cwd: work });
        background.push(p);
        const m = await p.waitForOutput(/^.*"msg":"sluice relay listening".*$/m, { timeoutMs: 20_000 });
        relayUrl = (JSON.parse(m[0]) as { origin: string }).origin;
      } else if (cmd === 'sluice-connector run') {
        const p = new ManagedProcess('connector', [BINS.connector, 'run'], { env, cwd: work });
        background.push(p);
        await waitUntil(() => (readJsonIfExists(join(home, '.sluice', 'connector.state.json')) as { connected?: boolean } | undefined)?.connected, {
          what: 'the connector to connect',
          timeoutMs: 20_000,
        });
      } else if (cmd.includes('--follow')) {
        const r = await sh(cmd, env, 3000);
        expect(r.out, cmd).toContain('run.opened');
      } else {
        const r = await sh(cmd, env);
        expect({ cmd, code: r.code, out: r.code === 0 ? '' : r.out }).toEqual({ cmd, code: 0, out: '' });
        learn(r.out);
        if (cmd.startsWith('sluice workspace add')) {
          // The operator edits ~/.sluice/config.json with the README's snippet.
          const snippet = /```json\n("my-app": \{[\s\S]*?\n\})\n```/.exec(section)![1]!;
          const entry = (JSON.parse(`{${snippet}}`) as Record<string, { path: string }>)['my-app']!;
          entry.path = realpathSync(repo);
          const configPath = join(home, '.sluice', 'config.json');
          const config = JSON.parse(readFileSync(configPath, 'utf8')) as { workspaces: Record<string, unknown> };
          config.workspaces['my-app'] = entry;
          writeFileSync(configPath, JSON.stringify(config, null, 2));
        }
        if (cmd.startsWith('sluice step dispatch')) expect(r.out).toContain('awaiting_approval');
        if (cmd.startsWith('sluice diff')) expect(r.out).toContain('+hello');
        if (cmd.startsWith('sluice-connector status')) expect(r.out).toMatch(/connected:\s+yes/);
        if (cmd.startsWith('git -C')) expect(r.out).toMatch(/sluice: attempt att_/);
      }
    }
    expect(ran.some((c) => c.startsWith('sluice approve'))).toBe(true);

    // "Connect a planner": the curl example answers with the connector online and the workspace shared.
    const curl = shellCommands(readme.slice(readme.indexOf('**Any HTTP client**'))).find((c) => c.startsWith('curl'))!;
    const r = await sh(fill(curl), env);
    expect(r.code).toBe(0);
    expect(r.out).toContain('"online":true');
    expect(r.out).toContain('"workspaceId":"my-app"');
  }, 180_000);
});
