import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLUICE_VERSION } from '@sluice/shared-protocol';

/** The one published package; its root holds the two files below. */
export const RELEASE_PACKAGE_NAME = 'sluice';
/** `{ name, version, commit }` written by the pack script: the commit the tarball was packed from. */
export const RELEASE_FILE = 'release.json';
/** `sha256sum` lines for every shipped file but itself, sorted by path. */
export const MANIFEST_FILE = 'MANIFEST.sha256';

export interface ManifestEntry {
  /** Relative to the package root, posix separators. */
  readonly path: string;
  /** 64 lowercase hex. */
  readonly sha256: string;
}

export interface ReleaseInfo {
  readonly name: string;
  readonly version: string;
  readonly commit: string | null;
  /** sha256 of MANIFEST.sha256's bytes; null outside an installed package. */
  readonly manifestSha256: string | null;
  readonly packaged: boolean;
  readonly node: string;
  /** Set when the layout was recognised but a fact could not be read: says which and why. */
  readonly problem?: string;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const GIT_OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const RELEASE_COMMIT = /^[0-9a-f]{40}$/;
const MANIFEST_LINE = /^([0-9a-f]{64}) {2}(.+)$/;

/** Why a manifest path is refused, or null when it is a plain relative posix path inside the package. */
function manifestPathProblem(path: string): string | null {
  if (path.length === 0) return 'is empty';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.startsWith('/') || isAbsolute(path)) return 'is absolute';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'has an empty, `.` or `..` segment';
  if (path === MANIFEST_FILE) return `names ${MANIFEST_FILE} itself`;
  return null;
}

function checkEntries(entries: readonly ManifestEntry[], where: (i: number) => string): void {
  entries.forEach((e, i) => {
    if (!SHA256_HEX.test(e.sha256)) throw new ManifestError(`${where(i)}: the hash is not 64 lowercase hex digits`);
    const problem = manifestPathProblem(e.path);
    if (problem) throw new ManifestError(`${where(i)}: the path ${JSON.stringify(e.path)} ${problem}`);
    const prev = entries[i - 1];
    if (prev && prev.path === e.path) throw new ManifestError(`${where(i)}: ${JSON.stringify(e.path)} is listed twice`);
    if (prev && prev.path > e.path) throw new ManifestError(`${where(i)}: ${JSON.stringify(e.path)} is out of order (sorted by path)`);
  });
}

/** The manifest text, exactly `sha256sum` output: sorts by path (plain string order), refuses duplicates and unsafe paths. */
export function renderManifest(entries: readonly ManifestEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  checkEntries(sorted, (i) => `manifest entry ${JSON.stringify(sorted[i]?.path)}`);
  return sorted.map((e) => `${e.sha256}  ${e.path}\n`).join('');
}

/** Reads a manifest strictly: every line well formed and newline-terminated, paths safe, sorted and unique. */
export function parseManifest(text: string): ManifestEntry[] {
  if (text.length > 0 && !text.endsWith('\n')) throw new ManifestError(`${MANIFEST_FILE}: the last line has no newline`);
  const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n');
  const entries = lines.map((line, i) => {
    const m = MANIFEST_LINE.exec(line);
    if (!m) throw new ManifestError(`${MANIFEST_FILE} line ${i + 1}: not "<64 hex>  <path>"`);
    return { sha256: m[1] as string, path: m[2] as string };
  });
  checkEntries(entries, (i) => `${MANIFEST_FILE} line ${i + 1}`);
  return entries;
}

function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

type Layout = { kind: 'packaged'; root: string } | { kind: 'clone'; root: string } | { kind: 'none' };

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function isPackagedRoot(root: string): boolean {
  try {
    return existsSync(join(root, RELEASE_FILE)) && field(readJson(join(root, 'package.json')), 'name') === RELEASE_PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** Where node-kit's compiled directory sits: inside the installed `sluice` package, in a clone, or neither. */
function locate(distDir: string): Layout {
  const packaged = resolve(distDir, '../../../..');
  if (isPackagedRoot(packaged)) return { kind: 'packaged', root: packaged };
  const clone = resolve(distDir, '../../..');
  if (existsSync(join(clone, 'packages', 'node-kit')) && existsSync(join(clone, '.git'))) return { kind: 'clone', root: clone };
  return { kind: 'none' };
}

function packagedInfo(root: string, node: string): ReleaseInfo {
  const problems: string[] = [];
  let commit: string | null = null;
  try {
    const release = readJson(join(root, RELEASE_FILE));
    const c = field(release, 'commit');
    if (typeof c === 'string' && RELEASE_COMMIT.test(c)) commit = c;
    else problems.push(`${RELEASE_FILE} has no 40-hex commit`);
    const v = field(release, 'version');
    if (v !== SLUICE_VERSION) problems.push(`${RELEASE_FILE} says version ${JSON.stringify(v)}, the code is ${SLUICE_VERSION}`);
  } catch (e) {
    problems.push(`${RELEASE_FILE} is unreadable: ${(e as Error).message}`);
  }
  let manifestSha256: string | null = null;
  try {
    manifestSha256 = hashBytes(readFileSync(join(root, MANIFEST_FILE)));
  } catch (e) {
    problems.push(`${MANIFEST_FILE} is unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const info = { name: RELEASE_PACKAGE_NAME, version: SLUICE_VERSION, commit, manifestSha256, packaged: true, node };
  return problems.length > 0 ? { ...info, problem: problems.join('; ') } : info;
}

function cloneInfo(root: string, node: string): ReleaseInfo {
  const info = (commit: string | null) => ({ name: RELEASE_PACKAGE_NAME, version: SLUICE_VERSION, commit, manifestSha256: null, packaged: false, node });
  try {
    return info(readGitHead(root));
  } catch (e) {
    return { ...info(null), problem: `git HEAD is unreadable: ${(e as Error).message}` };
  }
}

/** Release facts for a node-kit compiled into `distDir`; uncached (tests point it at synthesized layouts). */
export function releaseInfoFor(distDir: string): ReleaseInfo {
  const node = process.version;
  const layout = locate(distDir);
  if (layout.kind === 'packaged') return packagedInfo(layout.root, node);
  if (layout.kind === 'clone') return cloneInfo(layout.root, node);
  return { name: RELEASE_PACKAGE_NAME, version: SLUICE_VERSION, commit: null, manifestSha256: null, packaged: false, node };
}

const OWN_DIST_DIR = dirname(fileURLToPath(import.meta.url));
let cached: ReleaseInfo | undefined;

/** What this process runs: read once, then served from memory (health checks stay cheap). */
export function readReleaseInfo(): ReleaseInfo {
  cached ??= releaseInfoFor(OWN_DIST_DIR);
  return cached;
}

// Git metadata is read with fs only: spawning git would run whatever programs the repository's config names.

function gitDirs(worktree: string): { gitDir: string; commonDir: string } {
  const dotGit = join(worktree, '.git');
  let gitDir = dotGit;
  if (statSync(dotGit).isFile()) {
    const m = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'));
    if (!m?.[1]) throw new Error('.git is a file without a gitdir line');
    gitDir = resolve(worktree, m[1].trim());
  }
  let commonDir = gitDir;
  const commonFile = join(gitDir, 'commondir');
  if (existsSync(commonFile)) commonDir = resolve(gitDir, readFileSync(commonFile, 'utf8').trim());
  return { gitDir, commonDir };
}

function safeRefName(ref: string): boolean {
  return ref.startsWith('refs/') && !ref.split('/').some((s) => s === '' || s === '.' || s === '..') && !ref.includes('\\');
}

function packedRef(commonDir: string, ref: string): string | undefined {
  const file = join(commonDir, 'packed-refs');
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [id, name] = line.trim().split(' ');
    if (name === ref && id && GIT_OBJECT_ID.test(id)) return id;
  }
  return undefined;
}

function resolveRef(dirs: { gitDir: string; commonDir: string }, content: string, depth: number): string {
  const text = content.trim();
  if (GIT_OBJECT_ID.test(text)) return text;
  const m = /^ref: (.+)$/.exec(text);
  if (!m?.[1] || depth > 5) throw new Error(`cannot read ${JSON.stringify(text.slice(0, 80))}`);
  const ref = m[1].trim();
  if (!safeRefName(ref)) throw new Error(`refusing the ref name ${JSON.stringify(ref)}`);
  for (const dir of [dirs.gitDir, dirs.commonDir]) {
    const loose = join(dir, ...ref.split('/'));
    if (existsSync(loose) && statSync(loose).isFile()) return resolveRef(dirs, readFileSync(loose, 'utf8'), depth + 1);
  }
  const packed = packedRef(dirs.commonDir, ref);
  if (packed) return packed;
  throw new Error(`${ref} has no commit yet`);
}

/** The commit checked out in `worktree` (a repository or a linked worktree), read from the git files. */
export function readGitHead(worktree: string): string {
  const dirs = gitDirs(worktree);
  return resolveRef(dirs, readFileSync(join(dirs.gitDir, 'HEAD'), 'utf8'), 0);
}

export interface ManifestVerification {
  readonly root: string;
  readonly manifestSha256: string;
  readonly checked: number;
  readonly missing: string[];
  readonly changed: string[];
  readonly extra: string[];
  readonly ok: boolean;
}

/**
 * Shipped files on disk, as manifest paths. The third-party packages npm installs in the top `node_modules` beside
 * the bundled `@sluice` ones are not shipped, so only `node_modules/@sluice` is walked there; a `node_modules`
 * anywhere else is walked, since a file planted in it would be found by module resolution first.
 */
function shippedFilesOnDisk(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (rel === '' && entry.name === 'node_modules') {
          if (existsSync(join(root, path, '@sluice'))) walk(`${path}/@sluice`);
          continue;
        }
        walk(path);
      } else if (path !== MANIFEST_FILE) {
        out.push(path);
      }
    }
  };
  walk('');
  return out.sort();
}

/** What differs between a manifest and the files at hand. */
export interface ManifestDifference {
  readonly missing: string[];
  readonly changed: string[];
  readonly extra: string[];
}

/**
 * Compares a manifest with a set of files, wherever they are (a folder, a tarball in memory): `present` lists the
 * files there, `hashOf` gives a file's sha256, or undefined when it is not there. The manifest itself is never extra.
 */
export function diffManifest(entries: readonly ManifestEntry[], present: Iterable<string>, hashOf: (path: string) => string | undefined): ManifestDifference {
  const missing: string[] = [];
  const changed: string[] = [];
  for (const e of entries) {
    const hash = hashOf(e.path);
    if (hash === undefined) missing.push(e.path);
    else if (hash !== e.sha256) changed.push(e.path);
  }
  const listed = new Set(entries.map((e) => e.path));
  const extra = [...present].filter((p) => p !== MANIFEST_FILE && !listed.has(p));
  return { missing, changed, extra };
}

/** Re-hashes every file `<root>/MANIFEST.sha256` lists and names the missing, changed and extra ones. */
export function verifyManifest(root: string): ManifestVerification {
  const bytes = readFileSync(join(root, MANIFEST_FILE));
  const entries = parseManifest(bytes.toString('utf8'));
  const hashOnDisk = (path: string): string | undefined => {
    const file = join(root, ...path.split('/'));
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return undefined;
    }
    // Not a regular file (a symlink, a folder): never equal to a listed hash, so it counts as changed.
    return st.isFile() ? hashBytes(readFileSync(file)) : '';
  };
  const diff = diffManifest(entries, shippedFilesOnDisk(root), hashOnDisk);
  const ok = diff.missing.length === 0 && diff.changed.length === 0 && diff.extra.length === 0;
  return { root, manifestSha256: hashBytes(bytes), checked: entries.length, ...diff, ok };
}

/** The installed package's root, or an error saying why there is none to verify (a clone, say). */
export function installedPackageRoot(distDir: string = OWN_DIST_DIR): string {
  const layout = locate(distDir);
  if (layout.kind !== 'packaged') {
    throw new ManifestError(`this ${layout.kind === 'clone' ? 'is a clone' : 'is not an installed sluice package'}: there is no ${MANIFEST_FILE} to verify`);
  }
  return layout.root;
}

/** verifyManifest on the package this process runs from. */
export function verifyInstalledManifest(): ManifestVerification {
  return verifyManifest(installedPackageRoot());
}
