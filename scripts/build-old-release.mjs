// Builds a released version of Sluice from the git history into a temp folder, for the compatibility tests:
// `git archive <commit>`, node_modules linked entry by entry from this checkout (the `@sluice/*` links point at the
// old packages), then `tsc -b`. Prints the folder. Reuses a finished build of the same commit.
//   node scripts/build-old-release.mjs [commit]   (default: the 0.1.0 release)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RELEASE_0_1_0 = '2b80abf';

export function buildOldRelease(commit = RELEASE_0_1_0) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const sha = execFileSync('git', ['rev-parse', `${commit}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `sluice-old-${sha.slice(0, 12)}`);
  const done = join(dir, '.built');
  // The build links this checkout's node_modules: reuse it only when it was made from this checkout.
  const marker = `${sha}\n${join(root, 'node_modules')}\n`;
  if (existsSync(done) && readFileSync(done, 'utf8') === marker) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${sha} | tar -x -C "${dir}"`], { cwd: root });
  linkNodeModules(join(root, 'node_modules'), join(dir, 'node_modules'), join(dir, 'packages'));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: dir, stdio: 'inherit' });
  writeFileSync(done, marker);
  return dir;
}

function linkNodeModules(from, to, packages) {
  mkdirSync(join(to, '@sluice'), { recursive: true });
  for (const entry of readdirSync(from)) {
    if (entry === '@sluice') continue;
    symlinkSync(join(from, entry), join(to, entry));
  }
  for (const pkg of readdirSync(packages)) symlinkSync(join(packages, pkg), join(to, '@sluice', pkg));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(buildOldRelease(process.argv[2]));
