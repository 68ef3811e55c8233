import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Operator',
  GIT_AUTHOR_EMAIL: 'op@example.test',
  GIT_COMMITTER_NAME: 'Operator',
  GIT_COMMITTER_EMAIL: 'op@example.test',
};

/** Run git in a test repo (argv, no shell). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A small repo on branch main with the given files committed. */
export function makeRepo(path: string, files: Record<string, string | Buffer>): string {
  mkdirSync(path, { recursive: true });
  git(path, 'init', '-q', '-b', 'main');
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(dirname(join(path, f)), { recursive: true });
    writeFileSync(join(path, f), content);
  }
  git(path, 'add', '-A');
  git(path, 'commit', '-q', '-m', 'initial');
  return git(path, 'rev-parse', 'HEAD');
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
