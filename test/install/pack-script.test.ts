// scripts/pack.mjs without npm: its refusals, and the tarball check that release:check and the pack itself rely on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyTarball } from '../../scripts/pack.mjs';
import { readTarball, sha256 } from '../../scripts/lib/tarball.mjs';
import { REPO_ROOT, runNode } from '../helpers/index.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-pack-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tarball laid out as npm packs one (`package/…`), from a map of files; `tar` names a long path with a pax header. */
function tarball(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, 'package', path, '..'), { recursive: true });
    writeFileSync(join(root, 'package', path), text);
  }
  const out = join(dir, `${name}.tgz`);
  execFileSync('tar', ['-czf', out, '--format=pax', '-C', root, 'package']);
  return out;
}

const line = (path: string, text: string) => `${sha256(Buffer.from(text))}  ${path}\n`;
const DEEP = `node_modules/@sluice/daemon/dist/${'very-long-folder-name/'.repeat(6)}main.js`;

describe('verifyTarball', () => {
  it('accepts a tarball that holds exactly its manifest, long (pax) paths included', () => {
    const files: Record<string, string> = { 'package.json': '{}\n', [DEEP]: 'export {};\n' };
    const manifest = line(DEEP, files[DEEP]!) + line('package.json', files['package.json']!);
    const t = tarball('good', { ...files, 'MANIFEST.sha256': manifest });
    expect([...readTarball(t).keys()].sort()).toEqual(['MANIFEST.sha256', DEEP, 'package.json'].sort());
    expect(verifyTarball(t)).toMatchObject({ files: 3, manifestSha256: sha256(Buffer.from(manifest)) });
  });

  it('refuses a changed file, an unlisted file and a listed file that is missing', () => {
    const manifest = line('a.js', 'one\n') + line('b.js', 'two\n');
    const t = tarball('bad', { 'a.js': 'ONE\n', 'c.js': 'three\n', 'MANIFEST.sha256': manifest });
    expect(() => verifyTarball(t)).toThrow(/unlisted c\.js; missing b\.js; changed a\.js/);
  });

  it('refuses a tarball without a manifest', () => {
    expect(() => verifyTarball(tarball('none', { 'package.json': '{}\n' }))).toThrow(/holds no MANIFEST\.sha256/);
  });
});

describe('node scripts/pack.mjs', () => {
  it('refuses to pack a version the packages do not have (release.json would contradict the code)', async () => {
    const res = await runNode(join(REPO_ROOT, 'scripts/pack.mjs'), ['--out', join(dir, 'out'), '--allow-dirty'], { env: { ...process.env, SLUICE_VERSION: '9.9.9' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^pack: packing 9\.9\.9, but @sluice\/shared-protocol is 0\.\d+\.\d+.*bump the packages first/);
  });

  it('names an unknown argument and has --help', async () => {
    const bad = await runNode(join(REPO_ROOT, 'scripts/pack.mjs'), ['--outt', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('pack: unknown argument: --outt (see --help)\n');
    const help = await runNode(join(REPO_ROOT, 'scripts/pack.mjs'), ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: node scripts\/pack\.mjs \[--out <dir>\] \[--allow-dirty\]/);
  });
});
