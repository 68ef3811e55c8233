/** Synthetic git repositories for benchmarks: deterministic code-like text files spread over directories. */
import path from 'node:path';
import { makeRepo as makeKitRepo, seededRandom } from '@sluice/test-kit';
import { run } from './proc.mjs';

const WORDS = ['const', 'return', 'function', 'value', 'index', 'result', 'await', 'export', 'import', 'if', 'else', 'for', 'let', 'state', 'config', 'error', 'items', 'count', '=', '{', '}', '(', ')', ';'];

function text(rand, bytes) {
  let s = '';
  while (s.length < bytes) {
    let line = '  ';
    const n = 4 + Math.floor(rand() * 10);
    for (let i = 0; i < n; i++) line += WORDS[Math.floor(rand() * WORDS.length)] + ' ';
    s += line + '\n';
  }
  return s.slice(0, bytes);
}

/** Git env that ignores the user's global config, so hooks, templates and signing never interfere. */
export function gitEnv() {
  return {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
}

/** Run git with argv (never a shell). */
export function git(args, opts = {}) {
  return run('git', args, { env: gitEnv(), timeoutMs: 120_000, ...opts });
}

/**
 * Create a repository at `dir` with `files` files (about `avgBytes` each, 20 files per directory) in one commit
 * on branch `main`. Returns the directory.
 */
export async function makeRepo(dir, files, avgBytes = 8000, seed = 42) {
  const rand = seededRandom(seed + files);
  /** @type {Record<string, string>} */
  const tree = {};
  for (let i = 0; i < files; i++) {
    const size = Math.max(200, Math.floor(avgBytes * (0.5 + rand())));
    tree[path.join('src', `d${Math.floor(i / 20)}`, `f${i}.ts`)] = text(rand, size);
  }
  tree['README.md'] = `# bench repo, ${files} files\n`;
  return makeKitRepo(dir, tree).path;
}
