import { existsSync } from 'node:fs';

/**
 * A Debian tool a suite needs: its path, or why the suite is skipped. Missing, the suite fails naming the package
 * (`.ci/run` installs it), unless `SLUICE_SKIP_<skip>=1` is set outside CI (`CI=true` refuses the skip).
 */
export function requireDebianTool(opts: { path: string; pkg: string; skip: string }, env: NodeJS.ProcessEnv = process.env): { path: string } | { skip: string } {
  if (existsSync(opts.path)) return { path: opts.path };
  const missing = `${opts.path} is missing: install the Debian package \`${opts.pkg}\` (apt-get install -y ${opts.pkg}; .ci/run does)`;
  const variable = `SLUICE_SKIP_${opts.skip}`;
  if (env[variable] === '1') {
    if (env['CI'] === 'true') throw new Error(`${missing}; ${variable}=1 is refused under CI=true`);
    return { skip: `${variable}=1: ${missing}` };
  }
  throw new Error(`${missing} (or set ${variable}=1 to skip outside CI)`);
}
