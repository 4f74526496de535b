import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_LENGTH } from './constants.js';
import { readU32 } from './bytes.js';
import { limitOption } from './limit-option.js';
import { ProtocolError } from './errors.js';
import { FailOnceDecoder } from './fail-once-decoder.js';

export interface FrameDecoderOptions {
  /** Largest frame accepted; a header claiming more is refused before anything is buffered. */
  maxFrameBytes?: number;
}

/**
 * v1 decoder: a server-to-client byte stream of `[u32be length][JPEG]` into JPEG buffers.
 * push() throws FRAME_TOO_LARGE (fatal) on a length over the limit, decided from the header alone.
 *
 * Ownership: a frame that lies inside one pushed chunk is emitted as a view (subarray) of that
 * chunk, so the caller must not mutate a chunk after pushing it. A frame spread over chunks is
 * copied once into a buffer of exactly its size, allocated when its header is decoded; nothing is
 * ever grown by concatenation, so a 16 MiB frame in 1 KiB chunks costs one copy, not O(n²).
 */
export class FrameDecoder extends FailOnceDecoder<Buffer> {
  readonly maxFrameBytes: number;

  // Header bytes split across chunks are gathered here (at most 3 of them at a time).
  private readonly header = Buffer.alloc(FRAME_HEADER_LENGTH);
  private headerFilled = 0;
  // The frame being filled across chunks: exact-size, owned by the decoder until emitted.
  private pending: Buffer | null = null;
  private pendingFilled = 0;

  constructor(opts: FrameDecoderOptions = {}) {
    super('FrameDecoder');
    this.maxFrameBytes = limitOption('maxFrameBytes', opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  }

  /** Bytes of the incomplete frame received so far, header included (0 between frames). */
  get bufferedBytes(): number {
    return this.pending !== null ? FRAME_HEADER_LENGTH + this.pendingFilled : this.headerFilled;
  }

  protected forget(): void {
    this.headerFilled = 0;
    this.pending = null;
    this.pendingFilled = 0;
  }

  protected dropPartial(): void {
    this.pending = null;
  }

  protected decode(buf: Buffer, onFrame: (jpeg: Buffer) => void): void {
    const len = buf.length;
    let off = 0;

    if (this.pending !== null) {
      // Continue the frame that spans chunks.
      const pending = this.pending;
      const n = Math.min(pending.length - this.pendingFilled, len);
      // TypedArray#set, not Buffer#copy: Node 20's copy validates its arguments in JS on every call,
      // which cost ~10% of throughput with 1 KiB chunks (measured with tools/bench/decode.mjs).
      pending.set(n === len ? buf : buf.subarray(0, n), this.pendingFilled);
      this.pendingFilled += n;
      if (this.pendingFilled < pending.length) return;
      off = n;
      this.pending = null;
      this.pendingFilled = 0;
      onFrame(pending);
    } else if (this.headerFilled > 0) {
      // Complete a header split across chunks.
      const n = Math.min(FRAME_HEADER_LENGTH - this.headerFilled, len);
      buf.copy(this.header, this.headerFilled, 0, n);
      this.headerFilled += n;
      if (this.headerFilled < FRAME_HEADER_LENGTH) return;
      off = n;
      this.headerFilled = 0;
      off = this.startFrame(this.checkLength(readU32(this.header, 0)), buf, off, onFrame);
    }

    // The hot loop: whole headers in this chunk, frames emitted as views where they fit.
    while (len - off >= FRAME_HEADER_LENGTH) {
      const length = this.checkLength(readU32(buf, off));
      off = this.startFrame(length, buf, off + FRAME_HEADER_LENGTH, onFrame);
    }

    if (off < len) {
      // 1 to 3 bytes of the next header; keep them (only reached when no frame is pending).
      buf.copy(this.header, 0, off, len);
      this.headerFilled = len - off;
    }
  }

  /** Emits the frame if the chunk holds all of it, else starts an exact-size copy. */
  private startFrame(length: number, buf: Buffer, off: number, onFrame: (jpeg: Buffer) => void): number {
    const available = buf.length - off;
    if (available >= length) {
      onFrame(buf.subarray(off, off + length));
      return off + length;
    }
    // allocUnsafeSlow: never a slice of Node's shared pool, so the frame's memory is exactly its own.
    const pending = Buffer.allocUnsafeSlow(length);
    buf.copy(pending, 0, off);
    this.pending = pending;
    this.pendingFilled = available;
    return buf.length;
  }

  private checkLength(length: number): number {
    if (length > this.maxFrameBytes) {
      throw new ProtocolError(
        'FRAME_TOO_LARGE',
        `frame header claims ${length} bytes, over the limit of ${this.maxFrameBytes} (maxFrameBytes)`,
      );
    }
    return length;
  }
}
