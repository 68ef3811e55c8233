/**
 * Raw file baselines on the tmpdir file system, the floor for the artifact store: synchronous write + rename of
 * 1 KB and 1 MB buffers, streamed sha256 + write + rename of 1 MB and 32 MB, and reads of the same files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { figure, nowMs } from '../lib/stats.mjs';

function* chunks(buf, size = 65536) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function streamPut(dir, buf, i) {
  const tmp = path.join(dir, `tmp-${i}`);
  const h = createHash('sha256');
  await pipeline(
    Readable.from(chunks(buf)),
    new Transform({
      transform(c, _e, cb) {
        h.update(c);
        cb(null, c);
      },
    }),
    createWriteStream(tmp),
  );
  const hex = h.digest('hex');
  const d = path.join(dir, hex.slice(0, 2));
  mkdirSync(d, { recursive: true });
  const dst = path.join(d, hex);
  renameSync(tmp, dst);
  return dst;
}

function syncPut(dir, buf, i) {
  const hex = createHash('sha256').update(buf).digest('hex');
  const tmp = path.join(dir, `tmp-${i}`);
  writeFileSync(tmp, buf);
  const d = path.join(dir, hex.slice(0, 2));
  mkdirSync(d, { recursive: true });
  const dst = path.join(d, hex);
  renameSync(tmp, dst);
  return dst;
}

async function streamRead(file) {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 65536 })) h.update(c);
  return h.digest('hex');
}

/** @param {{ rounds: number, quick?: boolean }} opts */
export async function run({ rounds, quick }) {
  const base = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-files-'));
  try {
    const res = { w1k: [], w1m: [], s1m: [], s32m: [], r1m: [], r32m: [] };
    for (let r = 0; r < rounds; r++) {
      const dir = path.join(base, `r${r}`);
      mkdirSync(dir);
      const n1k = quick ? 500 : 1000;
      let t = nowMs();
      for (let i = 0; i < n1k; i++) syncPut(dir, randomBytes(1024), i);
      res.w1k.push((nowMs() - t) / n1k);
      const n1m = quick ? 30 : 60;
      const bufs = Array.from({ length: n1m }, () => randomBytes(1 << 20));
      t = nowMs();
      bufs.forEach((b, i) => syncPut(dir, b, 10_000 + i));
      res.w1m.push((n1m * 1000) / (nowMs() - t));
      const streamed = [];
      t = nowMs();
      for (let i = 0; i < n1m; i++) streamed.push(await streamPut(dir, randomBytes(1 << 20), 20_000 + i));
      res.s1m.push((n1m * 1000) / (nowMs() - t));
      t = nowMs();
      for (const f of streamed) await streamRead(f);
      res.r1m.push((n1m * 1000) / (nowMs() - t));
      const big = randomBytes(32 << 20);
      t = nowMs();
      const bigFile = await streamPut(dir, big, 30_000);
      res.s32m.push(32_000 / (nowMs() - t));
      t = nowMs();
      await streamRead(bigFile);
      res.r32m.push(32_000 / (nowMs() - t));
      rmSync(dir, { recursive: true, force: true });
    }
    return [
      figure('raw.file.put-1k', 'raw: 1 KB sha256 + writeFileSync + rename, per file', 'ms', res.w1k, { better: 'lower' }),
      figure('raw.file.put-1m', 'raw: 1 MB sha256 + writeFileSync + rename', 'MB/s', res.w1m, { better: 'higher' }),
      figure('raw.file.stream-put-1m', 'raw: 1 MB streamed sha256 + write + rename', 'MB/s', res.s1m, { better: 'higher' }),
      figure('raw.file.stream-put-32m', 'raw: 32 MB streamed sha256 + write + rename', 'MB/s', res.s32m, { better: 'higher' }),
      figure('raw.file.stream-read-1m', 'raw: 1 MB streamed read + sha256 verify', 'MB/s', res.r1m, { better: 'higher' }),
      figure('raw.file.stream-read-32m', 'raw: 32 MB streamed read + sha256 verify', 'MB/s', res.r32m, { better: 'higher' }),
    ];
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
