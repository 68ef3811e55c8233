import { spawnSync } from 'node:child_process';

/**
 * A test that needs a Debian tool: fails naming the package when the tool is missing, unless `skipVar=1` is set
 * outside CI (`CI=true` refuses the skip). Returns null when the tool runs, else the skip reason.
 */
export function requireSystemTool(tool: { program: string; args: string[]; pkg: string; skipVar: string }, env: NodeJS.ProcessEnv = process.env): string | null {
  const r = spawnSync(tool.program, tool.args, { encoding: 'utf8' });
  if (!r.error && r.status === 0) return null;
  const why = `${tool.program} is not usable here (${r.error?.message ?? r.stderr.trim()}): install the Debian package ${tool.pkg} (apt-get install -y ${tool.pkg})`;
  if (env[tool.skipVar] === '1' && env.CI !== 'true') return `${tool.skipVar}=1: ${why}`;
  throw new Error(env[tool.skipVar] === '1' ? `${why}; ${tool.skipVar} is refused when CI=true` : `${why}, or set ${tool.skipVar}=1 to skip these tests outside CI`);
}

/** The sandbox tests' requirement: bubblewrap able to make its namespaces. */
export const requireBubblewrap = (env: NodeJS.ProcessEnv = process.env): string | null =>
  requireSystemTool({ program: 'bwrap', args: ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], pkg: 'bubblewrap', skipVar: 'SLUICE_SKIP_SANDBOX' }, env);
