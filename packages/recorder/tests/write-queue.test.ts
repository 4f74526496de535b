import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecorderFileHandle } from '../src/index.js';
import { WriteQueue } from '../src/write-queue.js';
import { MemoryFile, MemoryDisk } from './helpers/memory-disk.js';

/** A handle that writes at most `max` bytes per call, as a write to a pipe or a full disk may. */
function shortWrites(inner: MemoryFile, max: number): RecorderFileHandle & { calls: number } {
  const h = {
    calls: 0,
    writev: async (buffers: Uint8Array[], position?: number) => {
      h.calls++;
      const out: Uint8Array[] = [];
      let left = max;
      for (const b of buffers) {
        if (left === 0) break;
        out.push(b.subarray(0, Math.min(left, b.length)));
        left -= Math.min(left, b.length);
      }
      return inner.writev(out, position);
    },
    truncate: (n: number) => inner.truncate(n),
    datasync: () => inner.datasync(),
    close: () => inner.close(),
  };
  return h;
}

describe('the write queue', () => {
  it('lands every byte in place whatever the short writes and patches', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 500 }),
      async (chunks, max) => {
        const file = new MemoryFile(new MemoryDisk());
        const handle = shortWrites(file, max);
        const q = new WriteQueue(async () => handle);
        const expected = Buffer.alloc(4 + chunks.reduce((n, c) => n + c.length, 0));
        let pos = 4;
        for (const c of chunks) {
          q.write([c], pos, c.length);
          expected.set(c, pos);
          pos += c.length;
          // A patch of the 4-byte "size" in front, as the muxer's checkpoints do.
          const size = Buffer.alloc(4);
          size.writeUInt32LE(pos);
          q.write([size], 0);
          expected.set(size, 0);
        }
        await q.idle();
        expect(file.bytes().equals(expected)).toBe(true);
        expect(q.pendingPayload).toBe(0);
        expect(q.pendingFrames).toBe(0);
      },
    ), { numRuns: 60 });
  });

  it('coalesces contiguous writes into one writev', async () => {
    const file = new MemoryFile(new MemoryDisk());
    const handle = shortWrites(file, Infinity);
    let release!: () => void;
    const opened = new Promise<void>((r) => (release = r));
    const q = new WriteQueue(async () => {
      await opened;
      return handle;
    });
    for (let i = 0; i < 100; i++) q.write([Buffer.alloc(10, i)], i * 10, 10);
    expect(q.pendingFrames).toBe(100);
    expect(q.pendingPayload).toBe(1000);
    release();
    await q.idle();
    expect(handle.calls).toBe(1);
    expect(file.length).toBe(1000);
  });

  it('keeps its array of ops bounded when it never runs dry', async () => {
    const file = new MemoryFile(new MemoryDisk());
    const total = 5000;
    let queued = 0;
    let longest = 0;
    const q: WriteQueue = new WriteQueue(async () => shortWrites(file, Infinity), {
      onProgress: () => {
        // Every completion queues two more writes, so the queue is never empty until the end.
        for (let i = 0; i < 2 && queued < total; i++, queued++) q.write([Buffer.from([queued & 0xff])], queued, 1);
        longest = Math.max(longest, (q as unknown as { ops: unknown[] }).ops.length);
      },
    });
    q.write([Buffer.from([0])], 0, 1);
    queued = 1;
    await q.idle();
    expect(file.length).toBe(total);
    expect(longest).toBeLessThan(2100); // without compaction it would reach `total`
  });

  it('reports the first op that did not complete when a write fails', async () => {
    const disk = new MemoryDisk(250);
    const file = new MemoryFile(disk);
    disk.files.set('f', file);
    let failedAt = -1;
    const q = new WriteQueue(async () => file, { onFailure: (f) => (failedAt = f.seq) });
    for (let i = 0; i < 5; i++) q.write([Buffer.alloc(100, i)], i * 100, 100);
    await expect(q.idle()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(failedAt).toBe(2); // ops 0 and 1 landed, op 2 only partly
    expect(q.failure?.seq).toBe(2);
    expect(q.pendingPayload).toBe(0);
  });

  it('holds frames back to write them together, and starts at once for a structure, idle() or its bounds', async () => {
    const file = new MemoryFile(new MemoryDisk());
    const handle = shortWrites(file, Infinity);
    let progressed!: () => void;
    let progress = new Promise<void>((r) => (progressed = r));
    // A delay no test waits out: every batch below is started by something else.
    const q = new WriteQueue(async () => handle, { onProgress: () => progressed() }, { ms: 3_600_000, bytes: 35, frames: 100 });
    for (let i = 0; i < 3; i++) q.write([Buffer.alloc(10, i)], i * 10, 10);
    // A checkpoint's header (no frame bytes) starts the batch: the frames before it land with it.
    q.write([Buffer.from([0xaa])], 100);
    await progress;
    await q.idle();
    expect(handle.calls).toBe(2); // the three frames in one writev, then the header
    expect(q.pendingFrames).toBe(0);

    // idle() does not wait for the delay either.
    for (let i = 3; i < 5; i++) q.write([Buffer.alloc(10, i)], i * 10, 10);
    expect(q.pendingFrames).toBe(2);
    await q.idle();
    expect(handle.calls).toBe(3);

    // Past its bounds (35 bytes here) the queue writes without waiting.
    progress = new Promise<void>((r) => (progressed = r));
    for (let i = 5; i < 9; i++) q.write([Buffer.alloc(10, i)], i * 10, 10);
    await progress;
    await q.idle();
    expect(handle.calls).toBe(4);
    const expected = Buffer.concat([...Array.from({ length: 9 }, (_, i) => Buffer.alloc(10, i)), Buffer.alloc(10), Buffer.from([0xaa])]);
    expect(file.bytes().equals(expected)).toBe(true);
  });
});
