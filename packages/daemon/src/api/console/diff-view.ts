import type { DiffFile, DiffFilePage } from '@sluice/shared-protocol';

function stripPrefix(p: string): string | null {
  if (p === '/dev/null') return null;
  return p.replace(/^[ab]\//, '');
}

/** Split `git diff` output into files with their counts. */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let inHunks = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      file = { path: m?.[2] ?? line.slice(11), oldPath: null, status: 'modified', additions: 0, deletions: 0, lines: [] };
      files.push(file);
      inHunks = false;
      continue;
    }
    if (!file) continue;
    if (line.startsWith('@@')) inHunks = true;
    if (inHunks) {
      if (line === '') continue;
      file.lines.push(line);
      if (line.startsWith('+')) file.additions++;
      else if (line.startsWith('-')) file.deletions++;
      continue;
    }
    if (line.startsWith('new file mode')) file.status = 'added';
    else if (line.startsWith('deleted file mode')) file.status = 'deleted';
    else if (line.startsWith('rename from ')) {
      file.status = 'renamed';
      file.oldPath = line.slice(12);
    } else if (line.startsWith('Binary files ')) file.status = 'binary';
    else if (line.startsWith('+++ ')) file.path = stripPrefix(line.slice(4)) ?? file.path;
  }
  return files;
}

/** Lines of one file per page: a large diff is read in pages, never sent whole to the page. */
export const DIFF_PAGE_LINES = 400;

/** A file with one page of its lines and where the next page starts (null at the end). */
export function diffPage(f: DiffFile, offset: number): DiffFilePage {
  const end = offset + DIFF_PAGE_LINES;
  return { ...f, lines: f.lines.slice(offset, end), totalLines: f.lines.length, offset, nextOffset: end < f.lines.length ? end : null };
}
