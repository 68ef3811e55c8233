import type { ChangedPath, ChangeStats } from '@sluice/shared-protocol';
import { runGit } from './git-command.js';

/** Paths changed between two commits with their line counts (binary files count none), and the totals. */
export async function diffStat(repoPath: string, base: string, head: string): Promise<{ changes: ChangeStats; files: ChangedPath[] }> {
  if (base === head) return { changes: { files: 0, insertions: 0, deletions: 0 }, files: [] };
  const common = ['-c', 'core.quotePath=false', 'diff', '--no-renames', '--no-ext-diff', '--no-textconv', '-z'];
  const [numstat, names] = await Promise.all([
    runGit(repoPath, [...common, '--numstat', base, head, '--']),
    runGit(repoPath, [...common, '--name-status', base, head, '--']),
  ]);
  const status = new Map<string, string>();
  const n = names.toString('utf8').split('\0').filter((p) => p.length > 0);
  for (let i = 0; i + 1 < n.length; i += 2) status.set(n[i + 1]!, n[i]!);
  const files: ChangedPath[] = [];
  for (const entry of numstat.toString('utf8').split('\0')) {
    const m = /^(-|\d+)\t(-|\d+)\t(.+)$/s.exec(entry);
    if (!m) continue;
    const binary = m[1] === '-';
    files.push({ path: m[3]!, status: status.get(m[3]!) ?? 'M', insertions: binary ? 0 : Number(m[1]), deletions: binary ? 0 : Number(m[2]), binary });
  }
  const sum = (k: 'insertions' | 'deletions') => files.reduce((t, f) => t + f[k], 0);
  return { changes: { files: files.length, insertions: sum('insertions'), deletions: sum('deletions') }, files };
}
