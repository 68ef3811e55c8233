/**
 * Raw git baselines: `git worktree add --detach` of synthetic 100- and 2 000-file repos onto ext4 (the tmpdir) and
 * tmpfs (/dev/shm), with `-c checkout.workers=2`, the `--no-checkout` floor, and reuse of a pooled worktree
 * (`reset --hard` + `clean -fdx` after 10 edits). Each add is followed by an untimed `worktree remove --force`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { git, makeRepo } from '../lib/git-fixtures.mjs';
import { median, round, spread } from '../lib/stats.mjs';

async function timeAdd(repo, wt, extra = [], addArgs = []) {
  const t = await git([...extra, '-C', repo, 'worktree', 'add', '-q', ...addArgs, '--detach', wt, 'HEAD']);
  await git(['-C', repo, 'worktree', 'remove', '--force', wt]);
  return t.ms;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds }) {
  const base = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-git-'));
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/sluice-bench-git-') : null;
  try {
    const small = await makeRepo(path.join(base, 'r100'), 100, 10_000);
    const large = await makeRepo(path.join(base, 'r2000'), 2000, 8000);
    const cells = {
      '100.ext4': { repo: small, dir: base },
      '100.shm': { repo: small, dir: shm },
      '2000.ext4': { repo: large, dir: base },
      '2000.shm': { repo: large, dir: shm },
      '2000.ext4.workers2': { repo: large, dir: base, extra: ['-c', 'checkout.workers=2'] },
      '2000.no-checkout': { repo: large, dir: base, addArgs: ['--no-checkout'] },
    };
    const samples = Object.fromEntries(Object.keys(cells).map((k) => [k, []]));
    const reuse = [];
    const perCell = 1;
    // Pooled worktree for the reuse figure: created once, dirtied and reset each round.
    const pooled = path.join(base, 'pooled');
    await git(['-C', large, 'worktree', 'add', '-q', '--detach', pooled, 'HEAD']);
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      for (let s = 0; s < perCell; s++) {
        for (const [name, c] of Object.entries(cells)) {
          if (!c.dir) continue;
          samples[name].push(await timeAdd(c.repo, path.join(c.dir, `wt${n++}`), c.extra, c.addArgs));
        }
        for (let i = 0; i < 10; i++) {
          writeFileSync(path.join(pooled, 'src', `d${i}`, `f${i * 20}.ts`), `edited ${r} ${s}\n`);
          writeFileSync(path.join(pooled, `untracked-${i}.txt`), 'new\n');
        }
        const t0 = process.hrtime.bigint();
        await git(['-C', pooled, 'reset', '-q', '--hard']);
        await git(['-C', pooled, 'clean', '-fdxq']);
        reuse.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    const label = {
      '100.ext4': 'raw: git worktree add, 100 files, ext4',
      '100.shm': 'raw: git worktree add, 100 files, tmpfs',
      '2000.ext4': 'raw: git worktree add, 2 000 files, ext4',
      '2000.shm': 'raw: git worktree add, 2 000 files, tmpfs',
      '2000.ext4.workers2': 'raw: git worktree add, 2 000 files, ext4, checkout.workers=2',
      '2000.no-checkout': 'raw: git worktree add --no-checkout (floor), 2 000 files',
    };
    const figs = Object.entries(samples)
      .filter(([, v]) => v.length > 0)
      .map(([k, v]) => ({
        id: `raw.git.wt-add.${k}`,
        figure: label[k],
        unit: 'ms',
        value: round(median(v)),
        better: 'lower',
        note: `median of ${v.length} adds (${spread(v)}), interleaved over ${rounds} rounds`,
        rounds: v.map((x) => round(x)),
      }));
    figs.push({
      id: 'raw.git.pooled-reuse.2000',
      figure: 'raw: pooled worktree reuse (reset --hard + clean -fdx after 10 edits), 2 000 files, ext4',
      unit: 'ms',
      value: round(median(reuse)),
      better: 'lower',
      note: `median of ${reuse.length} (${spread(reuse)})`,
      rounds: reuse.map((x) => round(x)),
    });
    return figs;
  } finally {
    rmSync(base, { recursive: true, force: true });
    if (shm) rmSync(shm, { recursive: true, force: true });
  }
}
