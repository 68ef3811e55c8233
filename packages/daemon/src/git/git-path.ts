/**
 * A path component git refuses to track (its `verify_path`): `.git` in any letter case, and the spellings
 * Windows and macOS file systems read as `.git` (trailing dots or spaces, an NTFS stream suffix, the 8.3 name).
 */
export const GIT_REFUSED_COMPONENT = /^(?:\.git|git~1)(?:[. ]*|:.*)$/i;

/** True when git would refuse to add `path` (slash-separated, relative to the worktree). */
export function gitRefusesPath(path: string): boolean {
  return path.split(/[\\/]+/).some((c) => c === '.' || c === '..' || GIT_REFUSED_COMPONENT.test(c));
}
