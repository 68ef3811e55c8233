#!/usr/bin/env node
// Installs the pinned real agent CLIs (tools/agent-clis/package-lock.json) into a cache folder outside the
// repository's node_modules, once per lockfile hash. `npm test` runs this before the real-CLI suite.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AGENT_CLIS,
  AGENT_CLIS_DIR,
  agentCliInstallDir,
  binPath,
  isInstalled,
  lockHash,
  markerPath,
} from './agent-clis.mjs';

const started = Date.now();
const target = agentCliInstallDir();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

function fail(message) {
  console.error(`install-agent-clis: ${message}`);
  process.exit(1);
}

function discard(message) {
  rmSync(staging, { recursive: true, force: true });
  fail(message);
}

if (process.env.SLUICE_SKIP_REAL_AGENTS === '1' && process.env.CI !== 'true' && !isInstalled(target)) {
  console.log('install-agent-clis: skipped (SLUICE_SKIP_REAL_AGENTS=1); the real-CLI suite will skip too');
  process.exit(0);
}

if (isInstalled(target)) {
  console.log(`install-agent-clis: up to date (${lockHash()}) in ${target}`);
  process.exit(0);
}

const staging = `${target}.partial-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(AGENT_CLIS_DIR, file), join(staging, file));

console.log(`install-agent-clis: installing ${AGENT_CLIS.map((c) => `${c.pkg}@${c.version}`).join(', ')}`);
console.log(`install-agent-clis: into ${target} (about 760 MB; the first install takes a minute or more)`);
// No install scripts but the one each CLI names in AGENT_CLIS: the platform binaries are optional dependencies
// inside the registry tarballs, gemini runs headless without its native addons (node-pty, keytar), and the
// --version checks below prove each CLI runs.
const npm = spawnSync(
  'npm',
  ['ci', '--prefix', staging, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--include=optional'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
);
if (npm.error || npm.status !== 0) {
  const output = `${npm.stdout ?? ''}${npm.stderr ?? ''}${npm.error ? String(npm.error) : ''}`;
  const named = AGENT_CLIS.filter((c) => output.includes(c.pkg) || output.includes(c.pkg.replace('/', '%2f')));
  const which = named.length ? named : AGENT_CLIS;
  discard(`npm ci failed for ${which.map((c) => `${c.pkg}@${c.version}`).join(', ')} after ${elapsed()}:\n${output.trim().split('\n').filter((l) => !/^npm error\s+at /.test(l)).slice(0, 12).join('\n')}`);
}
console.log(`install-agent-clis: npm ci done in ${elapsed()}; checking each CLI`);

for (const cli of AGENT_CLIS.filter((c) => c.installScript)) {
  const run = spawnSync(process.execPath, [cli.installScript], { cwd: join(staging, 'node_modules', cli.pkg), encoding: 'utf8' });
  if (run.status !== 0) discard(`${cli.pkg}@${cli.version}: its ${cli.installScript} failed (exit ${run.status}): ${`${run.stdout}${run.stderr}`.trim()}`);
}

for (const cli of AGENT_CLIS) {
  const run = spawnSync(binPath(staging, cli), ['--version'], { encoding: 'utf8', timeout: 60_000 });
  const out = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  if (run.status !== 0 || !out.includes(cli.version)) {
    discard(`${cli.pkg}@${cli.version} is installed but \`${cli.bin} --version\` did not report ${cli.version} (exit ${run.status}): ${out || run.error}`);
  }
  console.log(`install-agent-clis: ${cli.pkg}: ${out.split('\n')[0]}`);
}

writeFileSync(markerPath(staging), `${lockHash()}\n`);
rmSync(target, { recursive: true, force: true });
renameSync(staging, target);
console.log(`install-agent-clis: installed in ${elapsed()} into ${target}`);
