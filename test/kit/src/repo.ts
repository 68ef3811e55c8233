import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** No user or system config, so hooks, templates and signing never interfere; a fixed identity. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Operator',
  GIT_AUTHOR_EMAIL: 'op@example.test',
  GIT_COMMITTER_NAME: 'Operator',
  GIT_COMMITTER_EMAIL: 'op@example.test',
};

/** Run git in `cwd` (argv, no shell); returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** A repo at `dir` on branch `main` with `files` (default: one README) in one commit. */
export function makeRepo(dir: string, files: Record<string, string | Buffer> = { 'README.md': 'hello\n' }, message = 'initial'): { path: string; head: string } {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return { path: dir, head: git(dir, 'rev-parse', 'HEAD') };
}
