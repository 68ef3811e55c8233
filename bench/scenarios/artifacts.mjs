/**
 * The daemon's artifact store (`ArtifactStore` from `@sluice/daemon`, in process, on the tmpdir file system):
 * put and get of distinct 1 KB, 1 MB and 32 MB blobs, against the raw file baselines of the same run
 * (baselines/files.mjs: the same sizes, sha256 + write + rename, streamed read + sha256).
 * A get is the first read of a blob: it verifies the digest, then streams the content.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ArtifactStore } from '@sluice/daemon';
import { figure, nowMs } from '../lib/stats.mjs';

function* chunks(buf, size = 65536) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function drain(stream) {
  let n = 0;
  for await (const c of stream) n += c.length;
  return n;
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const base = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-artifacts-'));
  try {
    const res = { put1k: [], put1m: [], stream1m: [], stream32m: [], get1m: [], get32m: [] };
    for (let r = 0; r < rounds; r++) {
      const store = new ArtifactStore(path.join(base, `r${r}`));
      const n1k = quick ? 500 : 1000;
      let t = nowMs();
      for (let i = 0; i < n1k; i++) await store.putBuffer(randomBytes(1024));
      res.put1k.push((nowMs() - t) / n1k);
      const n1m = quick ? 30 : 60;
      const bufs = Array.from({ length: n1m }, () => randomBytes(1 << 20));
      t = nowMs();
      for (const b of bufs) await store.putBuffer(b);
      res.put1m.push((n1m * 1000) / (nowMs() - t));
      const digests = [];
      t = nowMs();
      for (let i = 0; i < n1m; i++) digests.push((await store.putStream(Readable.from(chunks(randomBytes(1 << 20))))).digest);
      res.stream1m.push((n1m * 1000) / (nowMs() - t));
      // A fresh store instance: nothing is known verified, as after a daemon restart.
      const reader = new ArtifactStore(path.join(base, `r${r}`));
      t = nowMs();
      for (const d of digests) await drain(await reader.createReadStream(d));
      res.get1m.push((n1m * 1000) / (nowMs() - t));
      t = nowMs();
      const big = await store.putStream(Readable.from(chunks(randomBytes(32 << 20))));
      res.stream32m.push(32_000 / (nowMs() - t));
      t = nowMs();
      const got = await drain(await reader.createReadStream(big.digest));
      res.get32m.push(32_000 / (nowMs() - t));
      if (got !== 32 << 20) throw new Error(`read ${got} bytes of a 32 MB artifact`);
      rmSync(path.join(base, `r${r}`), { recursive: true, force: true });
    }
    return [
      figure('artifacts.put-1k', 'artifact put 1 KB (putBuffer), per artifact', 'ms', res.put1k, { baselineId: 'raw.file.put-1k' }),
      figure('artifacts.put-1m', 'artifact put 1 MB (putBuffer)', 'MB/s', res.put1m, { baselineId: 'raw.file.put-1m' }),
      figure('artifacts.stream-put-1m', 'artifact put 1 MB (putStream)', 'MB/s', res.stream1m, { baselineId: 'raw.file.stream-put-1m' }),
      figure('artifacts.stream-put-32m', 'artifact put 32 MB (putStream)', 'MB/s', res.stream32m, { baselineId: 'raw.file.stream-put-32m' }),
      figure('artifacts.get-1m', 'artifact get 1 MB (verify + stream, first read)', 'MB/s', res.get1m, { baselineId: 'raw.file.stream-read-1m' }),
      figure('artifacts.get-32m', 'artifact get 32 MB (verify + stream, first read)', 'MB/s', res.get32m, { baselineId: 'raw.file.stream-read-32m' }),
    ];
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
