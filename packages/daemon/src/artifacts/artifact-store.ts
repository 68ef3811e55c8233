import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, closeSync, readSync, renameSync, rmSync, statSync, fstatSync, unlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DIGEST_PATTERN, SluiceError } from '@sluice/shared-protocol';

/** A stored blob: `sha256:<hex>` and its size in bytes. */
export interface StoredBlob {
  digest: string;
  size: number;
}

/** A blob whose content no longer matches its digest; it is never served. */
export class ArtifactCorruptError extends Error {
  constructor(readonly digest: string) {
    super(`artifact ${digest} is corrupt on disk (its content does not match its digest)`);
    this.name = 'ArtifactCorruptError';
  }
}

/** Content longer than the caller allowed; nothing was stored. */
export class ArtifactTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the content exceeds ${maxBytes} bytes`);
    this.name = 'ArtifactTooLargeError';
  }
}

/**
 * Content-addressed blobs under `artifacts/sha256/ab/<hex>`: deduplicated, written atomically (temp + rename),
 * verified on read. Large content is streamed, never held whole in memory.
 */
export class ArtifactStore {
  private readonly tmpDir: string;
  /** One empty file per blob the retention policy deleted, so a read says `ARTIFACT_PRUNED`, not "missing". */
  private readonly prunedDir: string;
  /** Blobs verified since they were last seen unchanged on disk (size, mtime, inode). */
  private readonly verified = new Map<string, string>();

  constructor(readonly root: string) {
    this.tmpDir = join(root, 'tmp');
    this.prunedDir = join(root, 'pruned');
    mkdirSync(join(root, 'sha256'), { recursive: true, mode: 0o700 });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.prunedDir, { recursive: true, mode: 0o700 });
  }

  /** Where a digest lives on disk. */
  pathOf(digest: string): string {
    if (!DIGEST_PATTERN.test(digest)) throw new SluiceError('BAD_REQUEST', 'Not a sha256 digest.');
    const hex = digest.slice('sha256:'.length);
    return join(this.root, 'sha256', hex.slice(0, 2), hex);
  }

  has(digest: string): boolean {
    return existsSync(this.pathOf(digest));
  }

  private tmpPath(): string {
    return join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  private commit(tmp: string, hex: string, size: number): StoredBlob {
    const digest = `sha256:${hex}`;
    const final = this.pathOf(digest);
    if (existsSync(final)) {
      rmSync(tmp, { force: true });
    } else {
      mkdirSync(join(this.root, 'sha256', hex.slice(0, 2)), { recursive: true, mode: 0o700 });
      renameSync(tmp, final);
      rmSync(join(this.prunedDir, hex), { force: true });
    }
    return { digest, size };
  }

  /** Store a buffer (refused with `ArtifactTooLargeError` beyond `maxBytes`). */
  async putBuffer(data: Buffer | string, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (opts.maxBytes !== undefined && buf.length > opts.maxBytes) throw new ArtifactTooLargeError(opts.maxBytes);
    const hex = createHash('sha256').update(buf).digest('hex');
    if (this.has(`sha256:${hex}`)) return { digest: `sha256:${hex}`, size: buf.length };
    const tmp = this.tmpPath();
    try {
      // writeFile rejects on a short write (ENOSPC); a stream's end callback also fires on error, which would
      // commit a truncated blob under the full content's digest.
      await writeFile(tmp, buf, { mode: 0o600 });
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return this.commit(tmp, hex, buf.length);
  }

  /**
   * Store a stream, hashing as it is written. Beyond `maxBytes` the stream is destroyed, the partial file removed
   * and `ArtifactTooLargeError` thrown: content is never held whole in memory, and nothing half-written stays.
   */
  async putStream(input: Readable | AsyncIterable<Buffer | string>, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    const tmp = this.tmpPath();
    const hash = createHash('sha256');
    const max = opts.maxBytes ?? Infinity;
    let size = 0;
    try {
      await pipeline(
        input,
        async function* (source: AsyncIterable<Buffer | string>) {
          for await (const chunk of source) {
            const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
            hash.update(b);
            size += b.length;
            if (size > max) throw new ArtifactTooLargeError(max);
            yield b;
          }
        },
        createWriteStream(tmp, { mode: 0o600 }),
      );
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return this.commit(tmp, hash.digest('hex'), size);
  }

  /** Store a file by streaming it. */
  putFile(path: string, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    return this.putStream(createReadStream(path), opts);
  }

  /** Delete a blob for good, leaving the mark that makes later reads answer `ARTIFACT_PRUNED`. */
  prune(digest: string): void {
    const path = this.pathOf(digest);
    writeFileSync(join(this.prunedDir, digest.slice('sha256:'.length)), '', { mode: 0o600 });
    this.verified.delete(digest);
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** The error for a blob that is not on disk: pruned by the retention policy, or never stored. */
  private missing(digest: string): SluiceError {
    return existsSync(join(this.prunedDir, digest.slice('sha256:'.length))) ? new SluiceError('ARTIFACT_PRUNED') : new SluiceError('ARTIFACT_NOT_FOUND');
  }

  /** Size of a stored blob. */
  size(digest: string): number {
    try {
      return statSync(this.pathOf(digest)).size;
    } catch {
      throw this.missing(digest);
    }
  }

  /** Hash the whole blob (streamed) unless it was verified and has not changed since. */
  private async verify(digest: string): Promise<void> {
    const path = this.pathOf(digest);
    let st;
    try {
      st = statSync(path);
    } catch {
      throw this.missing(digest);
    }
    const stamp = `${st.size}:${st.mtimeMs}:${st.ino}:${st.ctimeMs}`;
    if (this.verified.get(digest) === stamp) return;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    if (`sha256:${hash.digest('hex')}` !== digest) {
      this.verified.delete(digest);
      throw new ArtifactCorruptError(digest);
    }
    this.verified.set(digest, stamp);
  }

  /** Read `length` bytes at `offset` of a verified blob. */
  async read(digest: string, offset = 0, length = 1024 * 1024): Promise<{ data: Buffer; size: number; eof: boolean }> {
    await this.verify(digest);
    const fd = openSync(this.pathOf(digest), 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.min(offset, size);
      const n = Math.max(0, Math.min(length, size - start));
      const data = Buffer.alloc(n);
      let done = 0;
      while (done < n) {
        const got = readSync(fd, data, done, n - done, start + done);
        if (got === 0) break;
        done += got;
      }
      return { data: data.subarray(0, done), size, eof: start + done >= size };
    } finally {
      closeSync(fd);
    }
  }

  /** Stream a blob after verifying it (a corrupt blob rejects instead of streaming). */
  async createReadStream(digest: string): Promise<Readable> {
    await this.verify(digest);
    return createReadStream(this.pathOf(digest));
  }
}
