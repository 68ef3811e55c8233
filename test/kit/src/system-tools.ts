import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The one rule for a suite whose Debian tool is missing: it fails naming the package, unless `skipVar=1` is set
 * outside CI (`CI=true` refuses the skip). Returns the skip reason; throws otherwise.
 */
function skipOrFail(why: string, skipVar: string, env: NodeJS.ProcessEnv): string {
  if (env[skipVar] === '1' && env['CI'] !== 'true') return `${skipVar}=1: ${why}`;
  throw new Error(env[skipVar] === '1' ? `${why}; ${skipVar}=1 is refused under CI=true` : `${why}, or set ${skipVar}=1 to skip these tests outside CI`);
}

const install = (pkg: string): string => `install the Debian package \`${pkg}\` (apt-get install -y ${pkg}; .ci/run does)`;

/**
 * A test that needs a Debian tool that must run: null when `program args` exits 0, else the skip reason (or it
 * throws, see skipOrFail).
 */
export function requireSystemTool(tool: { program: string; args: string[]; pkg: string; skipVar: string }, env: NodeJS.ProcessEnv = process.env): string | null {
  const r = spawnSync(tool.program, tool.args, { encoding: 'utf8' });
  if (!r.error && r.status === 0) return null;
  return skipOrFail(`${tool.program} is not usable here (${r.error?.message ?? r.stderr.trim()}): ${install(tool.pkg)}`, tool.skipVar, env);
}

/** The sandbox tests' requirement: bubblewrap able to make its namespaces. */
export const requireBubblewrap = (env: NodeJS.ProcessEnv = process.env): string | null =>
  requireSystemTool({ program: 'bwrap', args: ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], pkg: 'bubblewrap', skipVar: 'SLUICE_SKIP_SANDBOX' }, env);

/** A Debian program a suite needs at a known path: the path, or why the suite is skipped (`SLUICE_SKIP_<skip>`). */
export function requireDebianTool(opts: { path: string; pkg: string; skip: string }, env: NodeJS.ProcessEnv = process.env): { path: string } | { skip: string } {
  if (existsSync(opts.path)) return { path: opts.path };
  return { skip: skipOrFail(`${opts.path} is missing: ${install(opts.pkg)}`, `SLUICE_SKIP_${opts.skip}`, env) };
}
