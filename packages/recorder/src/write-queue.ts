import type { RecorderFileHandle } from './file-system.js';

/** Most iovecs one writev may carry (Linux IOV_MAX). */
const MAX_IOVECS = 1024;
/** Batches stop growing at this many bytes, so completions (and room for callers) come often. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Completed ops kept at the front of the queue's array before it is compacted. */
const COMPACT_AFTER_OPS = 1024;

interface WriteOp {
  readonly kind: 'write';
  readonly seq: number;
  readonly buffers: Uint8Array[];
  readonly length: number;
  /** Absolute file position, or undefined to write at the current offset (pipes). */
  readonly position: number | undefined;
  /** Frame payload bytes held by this op (what the memory bound counts), and its frames. */
  readonly payload: number;
  readonly frames: number;
}

interface SyncOp {
  readonly kind: 'sync';
  readonly seq: number;
}

type Op = WriteOp | SyncOp;

export interface QueueFailure {
  readonly error: unknown;
  /** The first op that did not complete; every op before it is on disk (in the page cache). */
  readonly seq: number;
}

/**
 * Frames may wait in memory this long (and while below these amounts) so that several go to the
 * file in one writev: one system call and one thread-pool hand-over for a batch instead of each.
 */
export interface WriteHold {
  readonly ms: number;
  readonly bytes: number;
  readonly frames: number;
}

export interface WriteQueueHooks {
  /** The file is open (called once, before the first write). */
  onOpened?(): void;
  /** Ops up to and including `seq` completed; queued bytes went down. */
  onProgress?(completedSeq: number): void;
  /** A write failed: the queue dropped what was left and stopped; the handle (if any) stays open. */
  onFailure?(failure: QueueFailure): void;
}

/**
 * Serialized, batched writes to one file: positional writes are queued in order and the worker
 * coalesces contiguous ones into a single writev. The owner decides the memory bound from
 * `pendingPayload`/`pendingFrames`; this class only counts. It never copies a caller's buffer.
 */
export class WriteQueue {
  private ops: Op[] = [];
  private head = 0;
  private nextSeq = 0;
  private running = false;
  private idleWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  handle: RecorderFileHandle | undefined;
  failure: QueueFailure | undefined;
  pendingPayload = 0;
  pendingFrames = 0;
  completedSeq = -1;
  /** Set while frames are held back (see WriteHold): the batch starts when it fires. */
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly open: () => Promise<RecorderFileHandle>,
    private readonly hooks: WriteQueueHooks = {},
    private readonly hold?: WriteHold,
  ) {}

  /** Queue `buffers` for `position`; `payload` is the frame bytes it holds (0 for structures), in `frames` frames. */
  write(buffers: Uint8Array[], position: number | undefined, payload = 0, frames = payload > 0 ? 1 : 0): number {
    let length = 0;
    for (const b of buffers) length += b.length;
    const seq = this.nextSeq++;
    if (this.failure) return seq; // dropped: the file already failed
    this.ops.push({ kind: 'write', seq, buffers, length, position, payload, frames });
    this.pendingPayload += payload;
    this.pendingFrames += frames;
    // Only frames wait: a structure (a checkpoint's header, an index) starts the batch at once,
    // so a checkpoint still describes what is on disk as soon as it lands.
    const hold = this.hold;
    if (hold !== undefined && payload > 0 && this.pendingPayload < hold.bytes && this.pendingFrames < hold.frames) this.later(hold.ms);
    else this.kick();
    return seq;
  }

  /** Queue a datasync after everything queued so far. */
  sync(): number {
    const seq = this.nextSeq++;
    if (this.failure) return seq;
    this.ops.push({ kind: 'sync', seq });
    this.kick();
    return seq;
  }

  /** Resolves when every queued op completed; rejects with the failure's error if one failed. */
  idle(): Promise<void> {
    if (this.holdTimer !== undefined) this.kick();
    if (this.failure) return Promise.reject(this.failure.error);
    if (!this.running && this.head >= this.ops.length) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  private later(ms: number): void {
    // A batch being written takes what was queued meanwhile when it finishes.
    if (this.running || this.holdTimer !== undefined) return;
    this.holdTimer = setTimeout(() => this.kick(), ms);
  }

  private kick(): void {
    if (this.holdTimer !== undefined) {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
    }
    if (!this.running) {
      this.running = true;
      void this.run();
    }
  }

  private async run(): Promise<void> {
    try {
      if (!this.handle) {
        this.handle = await this.open();
        this.hooks.onOpened?.();
      }
      while (this.head < this.ops.length) {
        // A queue that never runs dry (a disk slower than the frames) would otherwise keep one
        // empty slot per op ever written: drop the completed ones between batches.
        if (this.head >= COMPACT_AFTER_OPS && this.head * 2 >= this.ops.length) {
          this.ops = this.ops.slice(this.head);
          this.head = 0;
        }
        const op = this.ops[this.head]!;
        if (op.kind === 'sync') {
          await this.handle.datasync();
          this.completeThrough(this.head + 1);
          continue;
        }
        const end = this.batchEnd();
        await this.writeBatch(this.handle, end);
      }
      this.ops = [];
      this.head = 0;
      this.running = false;
      for (const w of this.idleWaiters.splice(0)) w.resolve();
    } catch (error) {
      const first = this.ops[this.head];
      this.failure = { error, seq: first ? first.seq : this.nextSeq };
      this.ops = [];
      this.head = 0;
      this.pendingPayload = 0;
      this.pendingFrames = 0;
      this.running = false;
      this.hooks.onFailure?.(this.failure);
      for (const w of this.idleWaiters.splice(0)) w.reject(error);
    }
  }

  /** Index (exclusive) of the last op of the batch starting at head: contiguous writes only. */
  private batchEnd(): number {
    const first = this.ops[this.head] as WriteOp;
    let iovecs = first.buffers.length;
    let bytes = first.length;
    let next = first.position === undefined ? undefined : first.position + first.length;
    let i = this.head + 1;
    for (; i < this.ops.length; i++) {
      const op = this.ops[i]!;
      if (op.kind !== 'write') break;
      if (op.position !== next) break; // undefined === undefined: sequential writes chain too
      if (iovecs + op.buffers.length > MAX_IOVECS || bytes + op.length > MAX_BATCH_BYTES) break;
      iovecs += op.buffers.length;
      bytes += op.length;
      if (next !== undefined) next += op.length;
    }
    return i;
  }

  /** Write ops [head, end) with writev, completing ops as their bytes land (short writes retry). */
  private async writeBatch(handle: RecorderFileHandle, end: number): Promise<void> {
    const first = this.ops[this.head] as WriteOp;
    let buffers: Uint8Array[] = [];
    for (let i = this.head; i < end; i++) buffers.push(...(this.ops[i] as WriteOp).buffers);
    let written = 0; // bytes of the batch on disk
    let opDone = this.head; // ops before this index are complete
    let opEnd = first.length; // batch offset where op `opDone` ends
    while (opDone < end) {
      const position = first.position === undefined ? undefined : first.position + written;
      const { bytesWritten } = await handle.writev(buffers, position);
      if (!(bytesWritten > 0)) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      written += bytesWritten;
      while (opDone < end && opEnd <= written) {
        opDone++;
        if (opDone < end) opEnd += (this.ops[opDone] as WriteOp).length;
      }
      this.completeThrough(opDone);
      if (opDone < end) buffers = skipBytes(buffers, bytesWritten);
    }
  }

  /** Ops before index `upTo` are complete: release their bytes. */
  private completeThrough(upTo: number): void {
    if (upTo <= this.head) return;
    for (let i = this.head; i < upTo; i++) {
      const op = this.ops[i]!;
      if (op.kind === 'write') {
        this.pendingPayload -= op.payload;
        this.pendingFrames -= op.frames;
      }
      this.ops[i] = undefined as unknown as Op; // let the frame's buffer go
      this.completedSeq = op.seq;
    }
    this.head = upTo;
    this.hooks.onProgress?.(this.completedSeq);
  }
}

/** The buffers that remain after dropping the first `n` bytes (views, no copy). */
function skipBytes(buffers: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i]!.length) n -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}
