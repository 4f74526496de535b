/**
 * A file system that keeps every write the recorder makes, in order, so a test can rebuild the
 * file as it was after any number of bytes had been written: what a process killed at that moment
 * leaves (the kernel applies each write in order; a kill can cut the one in progress).
 */
import type { RecorderFileHandle, RecorderFs } from '../../src/index.js';

interface Write {
  readonly position: number;
  readonly bytes: Buffer;
}

export class WriteLog implements RecorderFs {
  readonly writes: Write[] = [];

  async open(): Promise<RecorderFileHandle> {
    return {
      writev: async (buffers, position) => {
        const bytes = Buffer.concat(buffers);
        this.writes.push({ position: position ?? 0, bytes });
        return { bytesWritten: bytes.length };
      },
      truncate: async () => undefined,
      datasync: async () => undefined,
      close: async () => undefined,
    };
  }

  /** Bytes written in all. */
  get total(): number {
    return this.writes.reduce((n, w) => n + w.bytes.length, 0);
  }

  /** The file after the first `n` bytes of writes landed (the last write possibly in part). */
  fileAfter(n: number): Buffer {
    let file = Buffer.alloc(0);
    let left = n;
    for (const w of this.writes) {
      if (left <= 0) break;
      const part = w.bytes.subarray(0, Math.min(left, w.bytes.length));
      left -= part.length;
      const end = w.position + part.length;
      if (end > file.length) file = Buffer.concat([file, Buffer.alloc(end - file.length)]);
      part.copy(file, w.position);
    }
    return file;
  }
}
