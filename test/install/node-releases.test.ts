import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_TOOLS_DIR, nodePrefix, pinnedMajors, pinnedVersion, platformProblem } from '../../scripts/install-node.mjs';

const ROOT = join(NODE_TOOLS_DIR, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'install-node.mjs');
const WORKSPACES: string[] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces;
const emptyCache = mkdtempSync(join(tmpdir(), 'sluice-node-cache-'));

afterAll(() => rmSync(emptyCache, { recursive: true, force: true }));

function installNode(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr.trim() };
}

function enginesOf(dir: string): string {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')).engines.node;
}

/** True when `version` satisfies a range of `^X.Y.Z` terms joined by `||`, the only form our engines use. */
function satisfiesCarets(range: string, version: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  return range.split('||').some((term) => {
    const m = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(term);
    if (!m) throw new Error(`engines term ${JSON.stringify(term)} is not ^X.Y.Z`);
    const [lo, mid, hi] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return major === lo && (minor > mid || (minor === mid && patch >= hi));
  });
}

describe('engines', () => {
  it('every workspace package declares the root package.json engines', () => {
    const root = enginesOf('.');
    expect(Object.fromEntries(WORKSPACES.map((w) => [w, enginesOf(w)]))).toEqual(Object.fromEntries(WORKSPACES.map((w) => [w, root])));
  });

  it('names Node 20 and each Node pinned in tools/node/, and each pinned release satisfies it', () => {
    const root = enginesOf('.');
    for (const major of pinnedMajors()) expect(satisfiesCarets(root, pinnedVersion(major)), `Node ${pinnedVersion(major)}`).toBe(true);
    const majors = root.split('||').map((t) => /\^(\d+)\./.exec(t)![1]);
    expect(majors).toEqual(['20', ...pinnedMajors()]);
  });
});

describe('scripts/install-node.mjs', () => {
  it('--help names the pinned majors and the cache', () => {
    const run = installNode(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`majors: ${pinnedMajors().join(', ')}`);
    expect(run.stdout).toContain('SLUICE_NODE_CACHE');
  });

  it('refuses a major tools/node/ does not pin, and a missing one', () => {
    expect(installNode(['23'])).toMatchObject({ status: 1, stderr: expect.stringContaining('no pinned Node 23: tools/node/ pins 22, 24') });
    expect(installNode([])).toMatchObject({ status: 1, stderr: expect.stringContaining('name one Node major') });
    expect(installNode(['24', '--prefix=x'])).toMatchObject({ status: 1, stderr: expect.stringContaining('unknown option --prefix=x') });
  });

  it('--print-prefix does not install: it fails naming the command while the cache is empty', () => {
    const run = installNode(['24', '--print-prefix'], { SLUICE_NODE_CACHE: emptyCache });
    if (platformProblem()) return expect(run).toMatchObject({ status: 1, stderr: expect.stringContaining('linux-x64') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Node 24 is not installed yet');
    expect(run.stderr).toContain('run node scripts/install-node.mjs 24');
    expect(existsSync(nodePrefix('24', { SLUICE_NODE_CACHE: emptyCache }))).toBe(false);
  });

  it('anywhere but linux-x64 it fails saying what to do instead', () => {
    expect(platformProblem('linux', 'x64')).toBeUndefined();
    expect(platformProblem('darwin', 'arm64')).toMatch(/runs only on linux-x64; this machine is darwin-arm64: install that Node yourself/);
    expect(platformProblem('linux', 'arm64')).toContain('this machine is linux-arm64');
  });

  it('installs Node 24 (bin/node of the pinned version, include/node) and reuses it on a second call', () => {
    const first = installNode(['24']);
    if (platformProblem()) return expect(first).toMatchObject({ status: 1, stderr: expect.stringContaining(platformProblem()!) });
    expect(first.status, first.stderr).toBe(0);
    const prefix = first.stdout;
    expect(prefix).toBe(nodePrefix('24'));
    expect(spawnSync(join(prefix, 'bin', 'node'), ['-v'], { encoding: 'utf8' }).stdout.trim()).toBe(`v${pinnedVersion('24')}`);
    expect(existsSync(join(prefix, 'include', 'node', 'node_api.h'))).toBe(true);

    const second = installNode(['24']);
    expect(second).toMatchObject({ status: 0, stdout: prefix, stderr: expect.stringContaining(`Node ${pinnedVersion('24')} up to date`) });
    expect(installNode(['24', '--print-prefix'])).toMatchObject({ status: 0, stdout: prefix });
  }, 300_000);
});
