import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

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

/**
 * A fingerprint of everything the operator owns in a repo: HEAD, the index file and every byte of the working
 * tree (outside .git). Sluice's own refs are not part of it.
 */
export function operatorFingerprint(repo: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(repo, '.git', 'HEAD')));
  h.update(readFileSync(join(repo, '.git', 'index')));
  h.update(git(repo, 'rev-parse', 'refs/heads/main'));
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (d === repo && name === '.git') continue;
      const p = join(d, name);
      const st = statSync(p);
      h.update(relative(repo, p));
      h.update(String(st.mode));
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(repo);
  return h.digest('hex');
}
