#!/usr/bin/env node
// `npm run release:check`: pack the sluice tarball into release/, write release/SHA256SUMS, check the tarball
// against its own manifest, pack again and check the second tarball is byte-identical, print what to publish.
//   node scripts/release-check.mjs [--allow-dirty]      (npm run release:check builds first)
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packRelease } from './pack.mjs';
import { sha256 } from './lib/tarball.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'release');

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

async function main(argv) {
  if (argv.includes('--help')) {
    process.stdout.write('Usage: node scripts/release-check.mjs [--allow-dirty]\n\nPacks release/sluice-<version>.tgz, writes release/SHA256SUMS, checks the manifest and that a second pack is byte-identical.\n');
    return;
  }
  const allowDirty = argv.includes('--allow-dirty');
  rmSync(OUT, { recursive: true, force: true });
  const first = await packRelease({ out: OUT, allowDirty });
  const again = mkdtempSync(join(tmpdir(), 'sluice-repack-'));
  try {
    const second = await packRelease({ out: again, allowDirty });
    if (!readFileSync(first.tarball).equals(readFileSync(second.tarball))) {
      throw new Error(`two packs of the same commit differ (${first.tarball}, ${second.tarball}): the tarball is not reproducible`);
    }
  } finally {
    rmSync(again, { recursive: true, force: true });
  }
  const tarballs = readdirSync(OUT).filter((f) => f.endsWith('.tgz')).sort();
  const sums = tarballs.map((f) => `${sha256(readFileSync(join(OUT, f)))}  ${f}\n`).join('');
  writeFileSync(join(OUT, 'SHA256SUMS'), sums);
  const rel = relative(process.cwd(), OUT) || '.';
  process.stdout.write(
    [
      `sluice ${first.version} from commit ${first.commit}${first.dirty ? ' (DIRTY working tree: not for publishing)' : ''}`,
      `  ${rel}/${basename(first.tarball)}: ${kib(first.tarballBytes)} packed, ${kib(first.unpackedBytes)} unpacked, ${first.files} files`,
      `  manifest sha256 (sluice --version --json reports it): ${first.manifestSha256}`,
      `  ${rel}/SHA256SUMS:`,
      ...sums.trim().split('\n').map((l) => `    ${l}`),
      '  checked: every file matches MANIFEST.sha256; a second pack is byte-identical',
      'To publish:',
      `  npm publish ${rel}/${basename(first.tarball)}`,
      `  attach ${rel}/${basename(first.tarball)} and ${rel}/SHA256SUMS to the GitHub release v${first.version}, with the manifest sha256 above`,
      '',
    ].join('\n'),
  );
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`release:check: ${err.message}\n`);
  process.exit(1);
}
