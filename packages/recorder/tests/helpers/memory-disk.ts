/**
 * A fake file system for the recorder's `fs` option: files in memory on a disk of a given
 * capacity. Writes past the capacity land partly and then fail with ENOSPC, as a real full disk
 * does; `failOpen` / `failWriteAfter` simulate EACCES and EIO.
 */
import type { RecorderFileHandle, RecorderFs } from '../../src/index.js';

function sysError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} failed (simulated)`), { code, syscall });
}

export interface DiskFaults {
  /** open() fails with this code (EACCES...). */
  readonly failOpen?: string;
  /** The write that crosses this many bytes (counted over all writes) lands partly, then fails with `code`; with `once`, later writes succeed again (a transient EIO). */
  readonly failAt?: { readonly bytes: number; readonly code: string; readonly once?: boolean };
}

export class MemoryDisk implements RecorderFs {
  readonly files = new Map<string, MemoryFile>();
  readonly removed: string[] = [];
  /** Bytes of data writes, counted to fail the Nth byte with EIO. */
  private written = 0;

  constructor(
    private capacity = Infinity,
    private readonly faults: DiskFaults = {},
  ) {}

  get used(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.length;
    return n;
  }

  /** Free `bytes` more (someone deleted a file). */
  grow(bytes: number): void {
    this.capacity += bytes;
  }

  async open(path: string): Promise<RecorderFileHandle> {
    if (this.faults.failOpen) throw sysError(this.faults.failOpen, 'open');
    const file = new MemoryFile(this);
    this.files.set(path, file);
    return file;
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
    this.removed.push(path);
  }

  /** Bytes that may still be added. */
  room(): number {
    return this.capacity - this.used;
  }

  private tripped = false;

  /** Count a write of `n` bytes; how many may land before the configured fault (which throws). */
  charge(n: number): number {
    const f = this.faults.failAt;
    if (!f || (f.once && this.tripped)) {
      this.written += n;
      return n;
    }
    const allowed = Math.max(0, Math.min(n, f.bytes - this.written));
    this.written += allowed;
    if (allowed === 0) {
      this.tripped = true;
      throw sysError(f.code, 'write');
    }
    return allowed;
  }
}

export class MemoryFile implements RecorderFileHandle {
  private data = Buffer.alloc(0);
  length = 0;
  private offset = 0;
  closed = false;
  syncs = 0;

  constructor(private readonly disk: MemoryDisk) {}

  bytes(): Buffer {
    return Buffer.from(this.data.subarray(0, this.length));
  }

  async writev(buffers: Uint8Array[], position?: number): Promise<{ bytesWritten: number }> {
    if (this.closed) throw sysError('EBADF', 'write');
    let pos = position ?? this.offset;
    let total = 0;
    for (const b of buffers) total += b.length;
    // Growth past the end needs room on the disk; overwriting existing bytes does not.
    const growth = Math.max(0, pos + total - this.length);
    let allowed = total;
    if (growth > this.disk.room()) allowed = Math.max(0, total - (growth - Math.max(0, this.disk.room())));
    if (allowed === 0) throw sysError('ENOSPC', 'write');
    allowed = this.disk.charge(allowed);
    this.ensure(pos + allowed);
    let left = allowed;
    for (const b of buffers) {
      if (left === 0) break;
      const n = Math.min(left, b.length);
      this.data.set(b.subarray(0, n), pos);
      pos += n;
      left -= n;
    }
    this.length = Math.max(this.length, pos);
    if (position === undefined) this.offset = pos;
    return { bytesWritten: allowed };
  }

  async truncate(length: number): Promise<void> {
    this.ensure(length);
    this.data.fill(0, length);
    this.length = length;
  }

  async datasync(): Promise<void> {
    this.syncs++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ensure(size: number): void {
    if (size <= this.data.length) return;
    const next = Buffer.alloc(Math.max(size, this.data.length * 2));
    this.data.copy(next, 0, 0, this.length);
    this.data = next;
  }
}
