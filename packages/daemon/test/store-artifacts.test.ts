import { createHash } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactTooLargeError } from '../src/artifacts/artifact-store.js';
import { ArtifactCorruptError, ArtifactStore } from '../src/index.js';
import { tempDir } from './core-fixtures.js';

/** The collector, callable without starting the worker with --expose-gc. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
let blobs: ArtifactStore;

beforeEach(() => {
  dir = tempDir();
  blobs = new ArtifactStore(join(dir, 'artifacts'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('artifact store', () => {
  it('stores identical content once, at sha256/ab/<hex>, with nothing left in tmp', async () => {
    const a = await blobs.putBuffer('same content');
    const b = await blobs.putStream(Readable.from([Buffer.from('same '), Buffer.from('content')]));
    const src = join(dir, 'src.txt');
    writeFileSync(src, 'same content');
    const c = await blobs.putFile(src);
    const hex = createHash('sha256').update('same content').digest('hex');
    expect(a).toEqual({ digest: `sha256:${hex}`, size: 12 });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(filesUnder(join(dir, 'artifacts'))).toEqual([join(dir, 'artifacts', 'sha256', hex.slice(0, 2), hex)]);
    expect(statSync(blobs.pathOf(a.digest)).mode & 0o777).toBe(0o600);
  });

  it('reads by offset and length', async () => {
    const { digest } = await blobs.putBuffer('0123456789');
    expect((await blobs.read(digest, 3, 4)).data.toString()).toBe('3456');
    const tail = await blobs.read(digest, 8, 100);
    expect(tail.data.toString()).toBe('89');
    expect(tail.eof).toBe(true);
    expect((await blobs.read(digest, 50, 10)).data.length).toBe(0);
  });

  it('stops an endless stream at maxBytes: it is never collected, and nothing half-written stays', async () => {
    let produced = 0;
    async function* endless() {
      for (;;) {
        produced += 64 * 1024;
        yield Buffer.alloc(64 * 1024, 7);
      }
    }
    const err = await blobs.putStream(endless(), { maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactTooLargeError);
    expect(produced).toBeLessThanOrEqual(1024 * 1024 + 2 * 64 * 1024);
    expect(filesUnder(join(dir, 'artifacts'))).toEqual([]);
    await expect(blobs.putBuffer(Buffer.alloc(11), { maxBytes: 10 })).rejects.toBeInstanceOf(ArtifactTooLargeError);
  });

  it('a pruned blob reads as ARTIFACT_PRUNED, not missing; storing the same content again serves it again', async () => {
    const { digest } = await blobs.putBuffer('old output');
    blobs.prune(digest);
    expect(blobs.has(digest)).toBe(false);
    await expect(blobs.read(digest)).rejects.toMatchObject({ code: 'ARTIFACT_PRUNED' });
    await expect(blobs.createReadStream(digest)).rejects.toMatchObject({ code: 'ARTIFACT_PRUNED' });
    expect(() => blobs.size(digest)).toThrow(expect.objectContaining({ code: 'ARTIFACT_PRUNED' }));
    await expect(blobs.read(`sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({ code: 'ARTIFACT_NOT_FOUND' });
    await blobs.putBuffer('old output');
    expect((await blobs.read(digest)).data.toString()).toBe('old output');
  });

  it('refuses to serve a corrupted blob', async () => {
    const { digest } = await blobs.putBuffer('original content');
    expect((await blobs.read(digest)).data.toString()).toBe('original content');
    writeFileSync(blobs.pathOf(digest), 'tampered content');
    await expect(blobs.read(digest)).rejects.toBeInstanceOf(ArtifactCorruptError);
    await expect(blobs.createReadStream(digest)).rejects.toBeInstanceOf(ArtifactCorruptError);
  });

  it('stores and reads back a 100 MB artifact in chunks with flat memory', async () => {
    const MB = 1024 * 1024;
    const chunk = Buffer.alloc(MB);
    for (let i = 0; i < MB; i++) chunk[i] = (i * 31) & 0xff;
    const expected = createHash('sha256');
    // Live buffer memory after a full collection, sampled while the store works: the process's RSS also counts the
    // test's own spent chunks until the collector runs, and when it runs differs between Node releases.
    const liveBuffers = () => {
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const before = liveBuffers();
    let peak = before;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        chunk[0] = i;
        expected.update(chunk);
        if (i % 10 === 0) peak = Math.max(peak, liveBuffers());
        yield Buffer.from(chunk);
      }
    }
    const { digest, size } = await blobs.putStream(Readable.from(source()));
    expect(size).toBe(100 * MB);
    expect(digest).toBe(`sha256:${expected.digest('hex')}`);
    const back = createHash('sha256');
    for (let offset = 0; offset < size; offset += MB) {
      const part = await blobs.read(digest, offset, MB);
      back.update(part.data);
      if (offset % (10 * MB) === 0) peak = Math.max(peak, liveBuffers());
    }
    expect(`sha256:${back.digest('hex')}`).toBe(digest);
    // Holding the artifact whole would add up to 100 MB; the streams between source and file hold about 12.
    expect(peak - before).toBeLessThan(40 * MB);
  });
});
