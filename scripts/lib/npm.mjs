// Runs npm with the Node that runs this process: `process.execPath <npm-cli.js>`, that Node's folder first on PATH,
// so install scripts (better-sqlite3's build) and `npm pack` use the same Node as the caller, not the machine's.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** The npm CLI script that belongs to this Node (or the one on PATH), or undefined. */
export function findNpmCli() {
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js'),
    join(dirname(process.execPath), 'node_modules/npm/bin/npm-cli.js'),
  ];
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
    if (onPath) candidates.push(join(dirname(realpathSync(onPath)), 'npm-cli.js'));
  } catch {
    // no npm on PATH
  }
  return candidates.find((c) => c && /npm-cli\.js$/.test(c) && existsSync(c));
}

/** The environment npm runs in: this Node's folder first on PATH. */
export function npmEnv(extra = {}) {
  return { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, ...extra };
}

/**
 * Run npm to completion; resolves with its stdout, rejects with its output on a non-zero exit.
 * @param {string[]} args
 * @param {{ cwd: string, env?: Record<string, string | undefined> }} opts
 */
export function runNpm(args, opts) {
  const cli = findNpmCli();
  if (!cli) return Promise.reject(new Error('npm not found: install npm (it ships with Node.js; Debian: apt-get install -y npm)'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: opts.cwd, env: opts.env ?? npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`npm ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}${stdout.slice(-2000)}`));
    });
  });
}
