/** Describes the machine and software a benchmark run was measured on. */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

function sqliteVersion() {
  try {
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3');
    const db = new Database(':memory:');
    const v = db.prepare('select sqlite_version() as v').get().v;
    db.close();
    const pkg = require('better-sqlite3/package.json');
    return { sqlite: v, betterSqlite3: pkg.version };
  } catch {
    return { sqlite: null, betterSqlite3: null };
  }
}

/** Machine facts for results/latest.json. */
export function machineInfo(repoRoot) {
  const cpus = os.cpus();
  const tmp = os.tmpdir();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    git: tryRun('git', ['--version'])?.replace(/^git version /, '') ?? null,
    ...sqliteVersion(),
    tmpdir: tmp,
    tmpdirFs: tryRun('findmnt', ['-no', 'FSTYPE', '-T', tmp])?.split('\n')[0] ?? tryRun('stat', ['-f', '-c', '%T', tmp]),
    shmFs: tryRun('findmnt', ['-no', 'FSTYPE', '-T', '/dev/shm'])?.split('\n')[0] ?? null,
    commit: tryRun('git', ['-C', repoRoot, 'rev-parse', '--short=12', 'HEAD']),
    loadavgStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
