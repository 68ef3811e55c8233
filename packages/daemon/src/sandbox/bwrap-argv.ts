import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { isInside } from '../git/safe-path.js';

/** One entry of the sandbox's file tree. Paths are the same inside and out unless `dest` says otherwise. */
export type Mount =
  | { kind: 'ro' | 'rw'; src: string; dest: string }
  | { kind: 'tmpfs' | 'dev' | 'proc'; dest: string }
  | { kind: 'symlink'; target: string; dest: string };

/** System folders every child sees read-only (or as the symlinks they are on merged-/usr systems). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The part of /etc programs need to start, resolve names and verify TLS: not the whole of it (no shadow, no ssh
 * host keys, no sudoers, no npmrc with its tokens).
 */
const ETC_ENTRIES = [
  'alternatives', 'ca-certificates', 'ca-certificates.conf', 'debian_version', 'group', 'host.conf', 'hostname', 'hosts', 'ld.so.cache', 'ld.so.conf',
  'ld.so.conf.d', 'locale.alias', 'localtime', 'mime.types', 'nsswitch.conf', 'os-release', 'passwd', 'pki', 'protocols', 'resolv.conf', 'services',
  'ssl', 'timezone', 'gitconfig',
];
const ETC_PATTERN = /^python3(\.\d+)?$/;

/** The mounts every sandbox starts from: system folders, a minimal /etc, fresh /dev, /proc, /tmp and /run. */
export function systemMounts(): Mount[] {
  const mounts: Mount[] = [];
  for (const dir of SYSTEM_DIRS) {
    const st = lstatOrNull(dir);
    if (st?.isSymbolicLink()) mounts.push({ kind: 'symlink', target: readlinkSync(dir), dest: dir });
    else if (st?.isDirectory()) mounts.push({ kind: 'ro', src: dir, dest: dir });
  }
  const etc = new Set(readdirSync('/etc'));
  for (const name of [...ETC_ENTRIES, ...[...etc].filter((n) => ETC_PATTERN.test(n))]) {
    if (etc.has(name)) mounts.push({ kind: 'ro', src: `/etc/${name}`, dest: `/etc/${name}` });
  }
  mounts.push({ kind: 'dev', dest: '/dev' }, { kind: 'proc', dest: '/proc' }, { kind: 'tmpfs', dest: '/tmp' }, { kind: 'tmpfs', dest: '/var/tmp' }, { kind: 'tmpfs', dest: '/run' });
  return mounts;
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

const depth = (p: string) => p.split('/').filter(Boolean).length;

/**
 * Order mounts so that a folder is mounted before anything inside it, and drop read-only binds that a read-only
 * bind of a parent already provides (PATH folders under /usr, say). Missing sources are dropped.
 */
export function orderMounts(mounts: readonly Mount[]): Mount[] {
  const kept = mounts.filter((m) => m.kind !== 'ro' && m.kind !== 'rw' ? true : existsSync(m.src));
  const roParents = kept.filter((m) => m.kind === 'ro' && m.src === m.dest).map((m) => m.dest);
  const needed = kept.filter((m, i) => {
    if (kept.findIndex((o) => o.dest === m.dest && o.kind === m.kind) !== i) return false;
    if (m.kind !== 'ro' || m.src !== m.dest) return true;
    return !roParents.some((p) => p !== m.dest && isInside(p, m.dest) && !writableBetween(kept, p, m.dest));
  });
  return needed.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.dest) - depth(b.m.dest) || a.i - b.i).map(({ m }) => m);
}

/** A writable mount between a read-only parent and a path inside it makes a read-only bind of the path needed. */
function writableBetween(mounts: readonly Mount[], parent: string, child: string): boolean {
  return mounts.some((m) => (m.kind === 'rw' || m.kind === 'tmpfs') && m.dest !== parent && isInside(parent, m.dest) && isInside(m.dest, child));
}

export interface BwrapOptions {
  mounts: readonly Mount[];
  cwd: string;
  /** A descriptor bwrap waits on before it runs the program (the cgroup is joined meanwhile). */
  blockFd?: number;
}

/**
 * The bwrap argv for a program: every namespace unshared (no network but its own loopback, own PID namespace),
 * no capabilities, killed with its parent, the given file tree and nothing else. Never a shell.
 */
export function bwrapArgv(bwrap: string, opts: BwrapOptions, argv: readonly string[]): string[] {
  const out = [bwrap, '--unshare-all', '--die-with-parent', '--cap-drop', 'ALL'];
  for (const m of orderMounts(opts.mounts)) {
    if (m.kind === 'ro') out.push('--ro-bind', m.src, m.dest);
    else if (m.kind === 'rw') out.push('--bind', m.src, m.dest);
    else if (m.kind === 'symlink') out.push('--symlink', m.target, m.dest);
    else out.push(`--${m.kind}`, m.dest);
  }
  out.push('--chdir', opts.cwd);
  if (opts.blockFd !== undefined) out.push('--block-fd', String(opts.blockFd));
  out.push('--', ...argv);
  return out;
}
