import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLUICE_VERSION } from '@sluice/shared-protocol';
import { git } from '@sluice/test-kit';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROGRAMS = [
  ['sluice', 'packages/daemon/dist/cli/main.js'],
  ['sluice-relay', 'packages/relay/dist/cli/main.js'],
  ['sluice-connector', 'packages/connector/dist/cli/main.js'],
] as const;

const run = (bin: string, ...args: string[]) => spawnSync(process.execPath, [resolve(ROOT, bin), ...args], { cwd: ROOT, encoding: 'utf8' });

describe.each(PROGRAMS)('%s --version', (name, bin) => {
  it('prints the bare version alone, and with --json what runs: version, the commit of this checkout, no manifest', () => {
    const bare = run(bin, '--version');
    expect([bare.status, bare.stdout]).toEqual([0, `${SLUICE_VERSION}\n`]);
    const json = run(bin, '--version', '--json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ name, version: SLUICE_VERSION, commit: git(ROOT, 'rev-parse', 'HEAD'), manifestSha256: null, packaged: false, node: process.version });
  });

  it('--help names --json and --verify on the version flag', () => {
    const help = run(bin, '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/-V, --version +print the version; with --json/);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('with --verify: re-hash the installed files against MANIFEST.sha256');
  });
});

describe('sluice --version --verify', () => {
  it('takes its flags in any order and refuses in a clone, where nothing was installed to check', () => {
    expect(JSON.parse(run(PROGRAMS[0][1], '--json', '-V').stdout)).toMatchObject({ name: 'sluice', packaged: false });
    const verify = run(PROGRAMS[0][1], '--verify', '--version');
    expect(verify.status).toBe(1);
    expect(verify.stdout).toBe('this is a clone: there is no MANIFEST.sha256 to verify\n');
  });
});
