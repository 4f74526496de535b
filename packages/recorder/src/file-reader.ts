/**
 * Reading a recording someone else may have cut or damaged: positional reads through a small
 * block cache (box and chunk headers are a few bytes, often near each other), and every failure
 * of the file system turned into READ_FAILED with its errno. The AVI and MP4 readers share it.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { RecorderError, errnoOf } from './errors.js';

/**
 * Headers are read through a cache of this size: small enough that walking a file of large
 * frames reads little more than its headers, large enough to hold several small ones.
 */
const BLOCK = 4096;

/** Open `path`, run `read` over it, close it; file-system errors become READ_FAILED. */
export async function readFileWith<T>(path: string, read: (r: BlockReader) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const errno = errnoOf(err);
    throw new RecorderError('READ_FAILED', `cannot open ${path} (${errno ?? String(err)})`, { cause: err, ...(errno ? { errno } : {}) });
  }
  try {
    return await read(new BlockReader(fh, (await fh.stat()).size));
  } catch (err) {
    if (err instanceof RecorderError) throw err;
    const errno = errnoOf(err);
    throw new RecorderError('READ_FAILED', `reading ${path} failed (${errno ?? String(err)})`, { cause: err, ...(errno ? { errno } : {}) });
  } finally {
    await fh.close();
  }
}

/** Read `size` bytes at `offset` of an open file. */
export async function readBytes(fh: FileHandle, offset: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const { bytesRead } = await fh.read(buf, done, size - done, offset + done);
    if (bytesRead === 0) throw new RecorderError('READ_FAILED', `unexpected end of file at ${offset + done}`);
    done += bytesRead;
  }
  return buf;
}

/** Positional reads through a small block cache. */
export class BlockReader {
  private blockStart = -1;
  private block: Buffer = Buffer.alloc(0);

  constructor(readonly fh: FileHandle, readonly size: number) {}

  /** `length` bytes at `offset` (a view valid until the next call), or undefined past EOF. */
  async at(offset: number, length: number): Promise<Buffer | undefined> {
    if (offset < 0 || offset + length > this.size) return undefined;
    if (length > BLOCK) return readBytes(this.fh, offset, length);
    if (offset < this.blockStart || offset + length > this.blockStart + this.block.length) {
      this.blockStart = offset;
      this.block = await readBytes(this.fh, offset, Math.min(BLOCK, this.size - offset));
    }
    return this.block.subarray(offset - this.blockStart, offset - this.blockStart + length);
  }
}
