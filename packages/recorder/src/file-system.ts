import { lstat, open, unlink } from 'node:fs/promises';

/**
 * The few file operations the writers need. Node's FileHandle satisfies it; tests inject a fake
 * (a disk that fills up, a handle that fails) through the `fs` option.
 */
export interface RecorderFileHandle {
  /** Write `buffers` at `position`, or at the current offset when position is undefined (pipes). */
  writev(buffers: Uint8Array[], position?: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface RecorderFs {
  /** Create (or truncate) a file for writing. */
  open(path: string): Promise<RecorderFileHandle>;
  /** Delete a file that failed before any frame reached it. Optional: without it, it stays. */
  remove?(path: string): Promise<void>;
}

export const nodeFs: RecorderFs = {
  open: (path) => open(path, 'w'),
  async remove(path) {
    // Only ever delete a regular file: a recording pointed at /dev/full or a FIFO must survive.
    const st = await lstat(path);
    if (st.isFile()) await unlink(path);
  },
};

/** Write all of `bytes` at `position`, retrying short writes (the writers' recovery paths). */
export async function writeAll(h: RecorderFileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await h.writev([bytes.subarray(done)], position + done);
    if (!(bytesWritten > 0)) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += bytesWritten;
  }
}
