import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SLUICE_VERSION } from '@sluice/shared-protocol';
import { MANIFEST_FILE, ManifestError, parseManifest, readGitHead, readReleaseInfo, RELEASE_FILE, releaseInfoFor, renderManifest } from '@sluice/node-kit';
import type { answerVersionFlags, ManifestEntry, verifyInstalledManifest } from '@sluice/node-kit';
import { git, makeRepo } from '@sluice/test-kit';

const HERE = dirname(fileURLToPath(import.meta.url));
const NODE_KIT = resolve(HERE, '..');
const REPO_ROOT = resolve(NODE_KIT, '../..');
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

const dirs: string[] = [];
const scratch = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('renderManifest / parseManifest', () => {
  it('writes sha256sum lines sorted by path and reads them back', () => {
    const text = renderManifest([
      { path: 'package.json', sha256: B },
      { path: 'node_modules/@sluice/node-kit/dist/index.js', sha256: A },
    ]);
    expect(text).toBe(`${A}  node_modules/@sluice/node-kit/dist/index.js\n${B}  package.json\n`);
    expect(parseManifest(text)).toEqual([
      { path: 'node_modules/@sluice/node-kit/dist/index.js', sha256: A },
      { path: 'package.json', sha256: B },
    ]);
    expect(parseManifest('')).toEqual([]);
  });

  it.each([
    ['a parent segment', '../etc/passwd'],
    ['a parent segment inside', 'dist/../../x'],
    ['an absolute path', '/etc/passwd'],
    ['a backslash', 'dist\\index.js'],
    ['an empty segment', 'dist//index.js'],
    ['a dot segment', './package.json'],
    ['a trailing slash', 'dist/'],
    ['an empty path', ''],
    ['a newline', 'a\nb'],
    ['the manifest itself', MANIFEST_FILE],
  ])('refuses %s in a path, when rendering and when parsing', (_what, path) => {
    expect(() => renderManifest([{ path, sha256: A }])).toThrow(ManifestError);
    expect(() => parseManifest(`${A}  ${path}\n`)).toThrow(ManifestError);
  });

  it.each([
    ['one space', `${A} package.json\n`],
    ['upper-case hex', `${A.toUpperCase()}  package.json\n`],
    ['a short hash', `${'a'.repeat(63)}  package.json\n`],
    ['a binary-mode marker', `${A} *package.json\n`],
    ['no final newline', `${A}  package.json`],
    ['a CRLF line end', `${A}  package.json\r\n`],
    ['an empty line', `${A}  a\n\n${B}  b\n`],
    ['a comment', `# hi\n${A}  a\n`],
    ['lines out of order', `${A}  b\n${B}  a\n`],
    ['a path listed twice', `${A}  a\n${B}  a\n`],
  ])('refuses a manifest with %s', (_what, text) => {
    expect(() => parseManifest(text)).toThrow(ManifestError);
  });

  it('refuses a duplicate or a bad hash when rendering', () => {
    expect(() => renderManifest([{ path: 'a', sha256: A }, { path: 'a', sha256: B }])).toThrow(/listed twice/);
    expect(() => renderManifest([{ path: 'a', sha256: 'x' }])).toThrow(/64 lowercase hex/);
  });
});

describe('readReleaseInfo in a clone', () => {
  it('reads the commit of this checkout from the git files (a linked worktree or a plain clone)', () => {
    const info = readReleaseInfo();
    expect(info).toEqual({ name: 'sluice', version: SLUICE_VERSION, commit: git(REPO_ROOT, 'rev-parse', 'HEAD'), manifestSha256: null, packaged: false, node: process.version });
    expect(readReleaseInfo()).toBe(info);
  });

  it('follows a loose ref, packed-refs, a detached HEAD and a linked worktree (.git file and commondir)', () => {
    const root = scratch('sluice-relinfo-git-');
    const repo = makeRepo(join(root, 'repo'), { 'packages/node-kit/package.json': '{}\n' });
    expect(readGitHead(repo.path)).toBe(repo.head);
    expect(releaseInfoFor(join(repo.path, 'packages/node-kit/dist')).commit).toBe(repo.head);

    git(repo.path, 'pack-refs', '--all');
    expect(readdirSync(join(repo.path, '.git/refs/heads'))).toEqual([]);
    expect(readGitHead(repo.path)).toBe(repo.head);

    writeFileSync(join(repo.path, 'second.txt'), 'two\n');
    git(repo.path, 'add', '-A');
    git(repo.path, 'commit', '-q', '-m', 'second');
    const second = git(repo.path, 'rev-parse', 'HEAD');
    expect(readGitHead(repo.path)).toBe(second);

    const linked = join(root, 'linked');
    git(repo.path, 'worktree', 'add', '-q', '-b', 'side', linked, repo.head);
    expect(readFileSync(join(linked, '.git'), 'utf8')).toMatch(/^gitdir: /);
    expect(readGitHead(linked)).toBe(repo.head);
    git(linked, 'checkout', '-q', '--detach', second);
    expect(readGitHead(linked)).toBe(second);
  });

  it('refuses a HEAD that names a ref outside refs/, and reports it as a problem with no commit', () => {
    const root = scratch('sluice-relinfo-hostile-');
    const repo = makeRepo(join(root, 'repo'), { 'packages/node-kit/package.json': '{}\n' });
    writeFileSync(join(repo.path, '.git/HEAD'), 'ref: refs/../../../../etc/hostname\n');
    expect(() => readGitHead(repo.path)).toThrow(/refusing the ref name/);
    const info = releaseInfoFor(join(repo.path, 'packages/node-kit/dist'));
    expect(info.commit).toBeNull();
    expect(info.problem).toMatch(/git HEAD is unreadable/);
  });

  it('reports no commit outside both layouts', () => {
    const info = releaseInfoFor(join(scratch('sluice-relinfo-none-'), 'a/b/c/dist'));
    expect(info).toEqual({ name: 'sluice', version: SLUICE_VERSION, commit: null, manifestSha256: null, packaged: false, node: process.version });
  });
});

interface InstalledKit {
  releaseInfoFor: typeof releaseInfoFor;
  readReleaseInfo: typeof readReleaseInfo;
  verifyInstalledManifest: typeof verifyInstalledManifest;
}
interface InstalledCli {
  answerVersionFlags: typeof answerVersionFlags;
}

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'));
}

/** The packed layout: `<pkg>/node_modules/@sluice/{node-kit,shared-protocol}` as bundled, zod beside them as npm installs it. */
function synthesizePackage(commit: string): string {
  const pkg = join(scratch('sluice-relinfo-pkg-'), 'sluice');
  for (const name of ['node-kit', 'shared-protocol']) {
    const from = resolve(REPO_ROOT, 'packages', name);
    const to = join(pkg, 'node_modules/@sluice', name);
    mkdirSync(to, { recursive: true });
    cpSync(join(from, 'package.json'), join(to, 'package.json'));
    cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true, filter: (src) => !/\.(d\.ts|map|tsbuildinfo)$/.test(src) });
  }
  symlinkSync(resolve(REPO_ROOT, 'node_modules/zod'), join(pkg, 'node_modules/zod'));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'sluice', version: SLUICE_VERSION }));
  writeFileSync(join(pkg, RELEASE_FILE), JSON.stringify({ name: 'sluice', version: SLUICE_VERSION, commit }));
  writeFileSync(join(pkg, 'README.md'), 'readme\n');
  const shipped = ['package.json', RELEASE_FILE, 'README.md', ...filesUnder(pkg, 'node_modules/@sluice')];
  const entries: ManifestEntry[] = shipped.map((path) => ({ path, sha256: sha256(readFileSync(join(pkg, path))) }));
  writeFileSync(join(pkg, MANIFEST_FILE), renderManifest(entries));
  return pkg;
}

const importFrom = async <T>(pkg: string, file: string): Promise<T> => (await import(pathToFileURL(join(pkg, 'node_modules/@sluice/node-kit/dist', file)).href)) as T;

describe('readReleaseInfo and verify in an installed package', () => {
  const commit = 'c'.repeat(40);

  it('reports the packed commit and the hash of MANIFEST.sha256, and verify finds nothing wrong', async () => {
    const pkg = synthesizePackage(commit);
    const kit = await importFrom<InstalledKit>(pkg, 'release-info.js');
    const info = kit.readReleaseInfo();
    expect(info).toEqual({ name: 'sluice', version: SLUICE_VERSION, commit, manifestSha256: sha256(readFileSync(join(pkg, MANIFEST_FILE))), packaged: true, node: process.version });
    const v = kit.verifyInstalledManifest();
    expect(v).toMatchObject({ ok: true, missing: [], changed: [], extra: [], manifestSha256: info.manifestSha256 });
    expect(v.checked).toBeGreaterThan(10);
  });

  it('verify names a changed, a missing and an extra file; --version --verify exits 1 and lists them', async () => {
    const pkg = synthesizePackage(commit);
    const kitDir = join(pkg, 'node_modules/@sluice/node-kit');
    writeFileSync(join(kitDir, 'dist/duration.js'), 'export {};\n');
    rmSync(join(pkg, 'README.md'));
    writeFileSync(join(kitDir, 'dist/implant.js'), 'process.exit(0);\n');
    // A nested node_modules would shadow a dependency for the code beside it: it is walked.
    mkdirSync(join(kitDir, 'node_modules/zod'), { recursive: true });
    writeFileSync(join(kitDir, 'node_modules/zod/index.js'), 'export {};\n');
    // npm's own files beside the bundled ones are not shipped and not "extra".
    mkdirSync(join(pkg, 'node_modules/.bin'));
    writeFileSync(join(pkg, 'node_modules/.package-lock.json'), '{}');
    const kit = await importFrom<InstalledKit>(pkg, 'release-info.js');
    expect(kit.verifyInstalledManifest()).toMatchObject({
      ok: false,
      missing: ['README.md'],
      changed: ['node_modules/@sluice/node-kit/dist/duration.js'],
      extra: ['node_modules/@sluice/node-kit/dist/implant.js', 'node_modules/@sluice/node-kit/node_modules/zod/index.js'],
    });
    const cli = await importFrom<InstalledCli>(pkg, 'cli-version.js');
    const answer = cli.answerVersionFlags('sluice', ['--version', '--verify']);
    expect(answer?.exitCode).toBe(1);
    expect(answer?.text).toMatch(/^MISMATCH: /);
    expect(answer?.text).toContain('  missing: README.md\n');
    expect(answer?.text).toContain('  changed: node_modules/@sluice/node-kit/dist/duration.js\n');
    expect(answer?.text).toContain('  extra: node_modules/@sluice/node-kit/dist/implant.js\n');
  });

  it('says so when MANIFEST.sha256 or the commit is missing, instead of passing silently', async () => {
    const pkg = synthesizePackage(commit);
    rmSync(join(pkg, MANIFEST_FILE));
    writeFileSync(join(pkg, RELEASE_FILE), JSON.stringify({ name: 'sluice', version: SLUICE_VERSION, commit: 'unknown' }));
    const kit = await importFrom<InstalledKit>(pkg, 'release-info.js');
    const info = kit.releaseInfoFor(join(pkg, 'node_modules/@sluice/node-kit/dist'));
    expect(info).toMatchObject({ packaged: true, commit: null, manifestSha256: null });
    expect(info.problem).toMatch(/release\.json has no 40-hex commit; MANIFEST\.sha256 is unreadable: ENOENT/);
    expect(() => kit.verifyInstalledManifest()).toThrow(/ENOENT/);
  });
});
