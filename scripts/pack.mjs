#!/usr/bin/env node
// Packs the one `sluice` npm package (bins `sluice`, `sluice-relay`, `sluice-connector`) from the built workspace.
// The internal @sluice/* packages travel inside it as bundleDependencies. npm does not bundle a workspace's
// hoisted packages (npm/cli#3466), so the package is staged in a temp folder first: a generated package.json,
// the bin shims, release.json, and node_modules/@sluice/* with pruned package.json files and only runtime files.
// Then MANIFEST.sha256 lists every file npm will pack, npm packs, and the tarball is re-read and checked against it.
//   node scripts/pack.mjs [--out <dir>] [--allow-dirty]      prints the tarball's path
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MANIFEST_FILE, RELEASE_FILE, diffManifest, parseManifest, renderManifest } from '@sluice/node-kit';
import { runNpm } from './lib/npm.mjs';
import { readTarball, sha256 } from './lib/tarball.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGING = join(ROOT, 'packaging/npm');

/** What ships, in dependency order. `built: 'tsc'` packages ship only dist files that still have a source. */
const SHIPPED = [
  { dir: 'shared-protocol', built: 'tsc' },
  { dir: 'node-kit', built: 'tsc' },
  { dir: 'console', built: 'vite' },
  { dir: 'daemon', built: 'tsc' },
  { dir: 'connector', built: 'tsc' },
  { dir: 'relay', built: 'tsc' },
];

/** The commands and the package whose CLI each one runs (packaging/npm/bin/<name>.js imports it). */
const BINS = { sluice: 'daemon', 'sluice-relay': 'relay', 'sluice-connector': 'connector' };

const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const NOT_SHIPPED = /(\.d\.ts|\.map|\.tsbuildinfo|\.test\.js)$/;

/** The project's public home (no other URL is canonical yet). */
const REPOSITORY = 'https://github.com/sluice-dev/sluice';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
const posix = (p) => p.split(sep).join('/');

function git(args) {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** A dist file tsc wrote for a source that is gone (tsc -b never deletes them): not shipped. */
function isStale(pkgDir, file) {
  if (!file.endsWith('.js')) return false;
  const base = join(pkgDir, 'src', relative(join(pkgDir, 'dist'), file)).replace(/\.js$/, '');
  return !['.ts', '.tsx', '.mts'].some((ext) => existsSync(base + ext));
}

function internalOnly(deps = {}) {
  return Object.fromEntries(Object.entries(deps).filter(([name]) => name.startsWith('@sluice/')));
}

function withoutTypes(exports) {
  if (typeof exports !== 'object' || exports === null) return exports;
  return Object.fromEntries(Object.entries(exports).filter(([k]) => k !== 'types').map(([k, v]) => [k, withoutTypes(v)]));
}

/**
 * The package.json an internal package ships with: what resolves it at runtime and its internal dependencies.
 * Its registry dependencies move up to the sluice package: npm counts a bundled package's dependencies as part of
 * the bundle and would never fetch them; declared once at the top, they install next to the bundle and resolve
 * from it by the usual walk up node_modules.
 */
function prunedManifest(pkg, spec) {
  return {
    name: pkg.name,
    version: pkg.version,
    ...(pkg.description ? { description: pkg.description } : {}),
    license: pkg.license,
    type: pkg.type,
    engines: pkg.engines,
    ...(pkg.main ? { main: pkg.main } : {}),
    ...(pkg.exports ? { exports: withoutTypes(pkg.exports) } : {}),
    files: ['dist'],
    // The console's dist is static files the daemon serves: it needs nothing at runtime.
    ...(spec.built === 'vite' ? {} : { dependencies: internalOnly(pkg.dependencies) }),
  };
}

/** Copy one internal package into the stage; returns its manifest and how many stale dist files it left out. */
function stagePackage(spec, stage) {
  const src = join(ROOT, 'packages', spec.dir);
  const pkg = readJson(join(src, 'package.json'));
  const dest = join(stage, 'node_modules', pkg.name);
  if (!existsSync(join(src, 'dist'))) throw new Error(`${pkg.name} is not built: run npm run build`);
  let stale = 0;
  for (const file of walk(join(src, 'dist'))) {
    if (NOT_SHIPPED.test(file)) continue;
    if (spec.built === 'tsc' && isStale(src, file)) {
      stale += 1;
      continue;
    }
    const to = join(dest, relative(src, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
  }
  writeJson(join(dest, 'package.json'), prunedManifest(pkg, spec));
  return { pkg, stale };
}

/** The union of the shipped packages' registry dependencies; two packages wanting different versions is an error. */
function externalDependencies(pkgs) {
  const deps = {};
  for (const { pkg, spec } of pkgs) {
    if (spec.built === 'vite') continue;
    for (const [name, version] of Object.entries(pkg.dependencies ?? {})) {
      if (name.startsWith('@sluice/')) continue;
      if (!EXACT_VERSION.test(version)) throw new Error(`${pkg.name} depends on ${name}@${version}: shipped dependencies must be exact versions`);
      if (deps[name] && deps[name].version !== version) {
        throw new Error(`${name}: ${deps[name].by} wants ${deps[name].version}, ${pkg.name} wants ${version}; align them before packing`);
      }
      deps[name] = { version, by: pkg.name };
    }
  }
  return Object.fromEntries(Object.keys(deps).sort().map((n) => [n, deps[n].version]));
}

function distributionManifest(root, version, externals, internals) {
  return {
    name: 'sluice',
    version,
    description: root.description,
    keywords: ['ai', 'coding-agent', 'mcp', 'planner', 'git-worktree', 'audit', 'relay', 'sandbox'],
    homepage: `${REPOSITORY}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    repository: { type: 'git', url: `git+${REPOSITORY}.git` },
    license: root.license,
    type: 'module',
    engines: root.engines,
    // Process groups, POSIX signals and file modes are assumed (docs/KNOWN_LIMITATIONS.md: no Windows).
    os: ['linux', 'darwin'],
    bin: Object.fromEntries(Object.keys(BINS).map((b) => [b, `bin/${b}.js`])),
    files: ['bin/', RELEASE_FILE, MANIFEST_FILE],
    dependencies: { ...externals, ...Object.fromEntries(internals.map((p) => [p.name, p.version])) },
    bundleDependencies: internals.map((p) => p.name),
  };
}

/** Refuse a dirty tree unless allowed: release.json names a commit, and the tarball must be that commit. */
function releaseInfo(version, allowDirty) {
  const commit = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain']) !== '';
  if (dirty && !allowDirty) throw new Error('the working tree has uncommitted changes (git status): commit them, or pass --allow-dirty (release.json then says "dirty": true)');
  return { name: 'sluice', version, commit, ...(dirty ? { dirty: true } : {}) };
}

/** Check a tarball holds exactly the files its MANIFEST.sha256 lists (plus the manifest), byte for byte. */
export function verifyTarball(tarball) {
  const files = readTarball(tarball);
  const manifest = files.get(MANIFEST_FILE);
  if (!manifest) throw new Error(`${tarball} holds no ${MANIFEST_FILE}`);
  const entries = parseManifest(manifest.toString('utf8'));
  const { missing, changed, extra: unlisted } = diffManifest(entries, files.keys(), (path) => (files.has(path) ? sha256(files.get(path)) : undefined));
  if (unlisted.length || missing.length || changed.length) {
    throw new Error(`${tarball} does not match its manifest: unlisted ${unlisted.join(', ') || '-'}; missing ${missing.join(', ') || '-'}; changed ${changed.join(', ') || '-'}`);
  }
  return { files: files.size, manifestSha256: sha256(manifest), unpackedBytes: [...files.values()].reduce((n, b) => n + b.length, 0) };
}

/**
 * Stage, list, hash and pack; returns the tarball's path and what was checked.
 * @param {{ out: string, allowDirty?: boolean }} opts
 */
export async function packRelease(opts) {
  const root = readJson(join(ROOT, 'package.json'));
  const version = process.env.SLUICE_VERSION || root.version;
  const built = SHIPPED.map((spec) => readJson(join(ROOT, 'packages', spec.dir, 'package.json'))).filter((p) => p.version !== version);
  // The code reports its own version (shared-protocol's SLUICE_VERSION): release.json must say the same.
  if (built.length) throw new Error(`packing ${version}, but ${built.map((p) => `${p.name} is ${p.version}`).join(', ')}: bump the packages first`);
  const release = releaseInfo(version, opts.allowDirty);
  const stage = mkdtempSync(join(tmpdir(), 'sluice-pack-'));
  try {
    const staged = SHIPPED.map((spec) => ({ spec, ...stagePackage(spec, stage) }));
    const stale = staged.reduce((n, s) => n + s.stale, 0);
    if (stale) process.stderr.write(`pack: left out ${stale} stale dist file(s) whose source is gone (rm -rf packages/*/dist && npm run build removes them)\n`);
    const internals = staged.map((s) => s.pkg);
    writeJson(join(stage, 'package.json'), distributionManifest(root, version, externalDependencies(staged), internals));
    mkdirSync(join(stage, 'bin'));
    for (const bin of Object.keys(BINS)) {
      copyFileSync(join(PACKAGING, 'bin', `${bin}.js`), join(stage, 'bin', `${bin}.js`));
      chmodSync(join(stage, 'bin', `${bin}.js`), 0o755);
    }
    copyFileSync(join(PACKAGING, 'README.md'), join(stage, 'README.md'));
    copyFileSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
    writeJson(join(stage, RELEASE_FILE), release);

    const [listing] = JSON.parse(await runNpm(['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: stage }));
    const entries = listing.files
      .map((f) => posix(f.path))
      .filter((p) => p !== MANIFEST_FILE)
      .sort()
      .map((path) => ({ path, sha256: sha256(readFileSync(join(stage, path))) }));
    writeFileSync(join(stage, MANIFEST_FILE), renderManifest(entries));

    mkdirSync(opts.out, { recursive: true });
    const [packed] = JSON.parse(await runNpm(['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(opts.out)], { cwd: stage }));
    const tarball = join(resolve(opts.out), packed.filename);
    const checked = verifyTarball(tarball);
    return { tarball, commit: release.commit, dirty: Boolean(release.dirty), version, ...checked, tarballBytes: readFileSync(tarball).length };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const HELP = `Usage: node scripts/pack.mjs [--out <dir>] [--allow-dirty]

Packs the sluice npm package (bins sluice, sluice-relay, sluice-connector) from the built workspace
(run npm run build first) and prints the tarball's path.

  --out <dir>      where the tarball goes (default: release/)
  --allow-dirty    pack a working tree with uncommitted changes (release.json then says "dirty": true)
  --help           this text

SLUICE_VERSION names the version to pack (default: the root package.json's); every package must already have it.
`;

function parseArgs(argv) {
  const opts = { out: join(ROOT, 'release'), allowDirty: false, help: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--help' || a === '-h') opts.help = true;
    else if (a === '--allow-dirty') opts.allowDirty = true;
    else if (a === '--out' && argv[i + 1]) opts.out = resolve(argv[++i]);
    else throw new Error(`unknown argument: ${a} (see --help)`);
  }
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.help) process.stdout.write(HELP);
    else process.stdout.write(`${(await packRelease(opts)).tarball}\n`);
  } catch (err) {
    process.stderr.write(`pack: ${err.message}\n`);
    process.exit(1);
  }
}
