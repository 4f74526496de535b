// Splits a byte stream of concatenated JPEGs (`libcamera-vid --codec mjpeg -o -`, ffmpeg's
// `-f mjpeg`) into whole JPEGs as soon as each EOI arrives. Searching for FFD9 alone is wrong:
// EXIF thumbnails carry their own SOI..EOI inside APP1, and entropy-coded data holds stuffed
// FF00 and RST markers. So marker segments are skipped by their length until SOS, entropy data
// is scanned for a real marker, and the frame ends at the EOI that follows.
// Corrupt input is not fatal: the partial frame is dropped, counted, and the splitter resyncs
// on the next SOI. A frame growing past maxFrameBytes is dropped the same way, so memory stays
// bounded whatever the producer sends.

/** The default maxFrameBytes: a frame growing past it is dropped. */
export const DEFAULT_MAX_JPEG_BYTES = 16 * 1024 * 1024;

const enum S {
  SeekSoi, // between frames: skipping to FF
  SeekSoiD8, // saw FF between frames: D8 starts a frame
  MarkerFF, // inside headers: a marker's FF must come next
  MarkerCode, // after FF: the marker code (FF fill bytes allowed)
  Length1, // high byte of a segment length
  Length2, // low byte
  SkipSegment, // segment payload
  Entropy, // scan data after SOS: looking for FF
  EntropyFF, // FF in scan data: 00 and RSTn continue it, anything else is a marker
}

const SOI = Buffer.from([0xff, 0xd8]);
/**
 * Views of earlier chunks kept for one frame before they are joined into one growing copy. A
 * producer writing a few bytes at a time would otherwise make us hold one view object per write,
 * each costing far more than its bytes.
 */
const MAX_PIECES = 64;

function isRst(b: number): boolean {
  return b >= 0xd0 && b <= 0xd7;
}

/** Splits concatenated JPEGs (a raw MJPEG stream) at their SOI/EOI markers. */
export class JpegSplitter {
  private readonly maxFrameBytes: number;
  private state = S.SeekSoi;
  private marker = 0;
  private length = 0;
  private segmentLeft = 0;
  // The current frame's bytes from earlier chunks: views while they are few, then `joined`, a
  // copy with room to grow (doubling), so both bytes and objects held stay bounded.
  private pieces: Uint8Array[] = [];
  private joined: Buffer | null = null;
  private piecesBytes = 0;
  /** Frames dropped because they were corrupt or over maxFrameBytes. */
  dropped = 0;

  constructor(opts: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_JPEG_BYTES;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.piecesBytes;
  }

  /** Feeds a chunk; onFrame gets each complete JPEG (a view of the chunk when it lies inside one). */
  push(chunk: Uint8Array, onFrame: (jpeg: Buffer) => void): void {
    const n = chunk.length;
    let i = 0;
    // Where the current frame's bytes begin in this chunk; -1 while between frames.
    let start = this.inFrame() ? 0 : -1;
    while (i < n) {
      switch (this.state) {
        case S.SeekSoi: {
          const ff = chunk.indexOf(0xff, i);
          if (ff === -1) {
            i = n;
          } else {
            start = ff;
            i = ff + 1;
            this.state = S.SeekSoiD8;
          }
          break;
        }
        case S.SeekSoiD8: {
          const b = chunk[i] as number;
          if (b === 0xd8) {
            if (start === -1) {
              // The FF ended the previous chunk.
              this.collect(SOI.subarray(0, 1));
              start = i;
            }
            i++;
            this.state = S.MarkerFF;
          } else if (b === 0xff) {
            start = i++;
          } else {
            start = -1;
            this.state = S.SeekSoi;
          }
          break;
        }
        case S.MarkerFF:
          if (chunk[i] === 0xff) {
            i++;
            this.state = S.MarkerCode;
          } else {
            start = this.corrupt();
          }
          break;
        case S.MarkerCode:
        case S.EntropyFF: {
          const b = chunk[i++] as number;
          if (b === 0xff) break; // fill byte
          if (b === 0xd9) {
            this.emit(chunk, start, i, onFrame);
            start = -1;
          } else if (b === 0xd8) {
            start = this.restartAtSoi(chunk, i);
          } else if (this.state === S.EntropyFF && (b === 0x00 || isRst(b))) {
            this.state = S.Entropy; // stuffed byte or restart marker: still scan data
          } else if (isRst(b) || b === 0x01) {
            this.state = S.MarkerFF; // markers without a length
          } else if (b === 0x00) {
            i--;
            start = this.corrupt();
          } else {
            this.marker = b;
            this.state = S.Length1;
          }
          break;
        }
        case S.Length1:
          this.length = (chunk[i++] as number) << 8;
          this.state = S.Length2;
          break;
        case S.Length2:
          this.length |= chunk[i++] as number;
          if (this.length < 2) {
            start = this.corrupt();
            break;
          }
          this.segmentLeft = this.length - 2;
          this.state = this.segmentLeft > 0 ? S.SkipSegment : this.afterSegment();
          break;
        case S.SkipSegment: {
          const take = Math.min(this.segmentLeft, n - i);
          i += take;
          this.segmentLeft -= take;
          if (this.segmentLeft === 0) this.state = this.afterSegment();
          break;
        }
        case S.Entropy: {
          const ff = chunk.indexOf(0xff, i);
          if (ff === -1) {
            i = n;
          } else {
            i = ff + 1;
            this.state = S.EntropyFF;
          }
          break;
        }
      }
    }
    if (this.inFrame() && start !== -1) {
      this.collect(chunk.subarray(start, n));
      if (this.piecesBytes > this.maxFrameBytes) this.corrupt();
    }
  }

  reset(): void {
    this.state = S.SeekSoi;
    this.pieces = [];
    this.joined = null;
    this.piecesBytes = 0;
  }

  /** Keeps bytes of the current frame that arrived before its end. */
  private collect(piece: Uint8Array): void {
    const at = this.piecesBytes;
    this.piecesBytes += piece.length;
    if (this.joined) {
      if (this.piecesBytes > this.joined.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.piecesBytes, this.joined.length * 2));
        this.joined.copy(grown, 0, 0, at);
        this.joined = grown;
      }
      this.joined.set(piece, at);
      return;
    }
    this.pieces.push(piece);
    if (this.pieces.length > MAX_PIECES) {
      this.joined = Buffer.allocUnsafe(this.piecesBytes * 2);
      let off = 0;
      for (const p of this.pieces) {
        this.joined.set(p, off);
        off += p.length;
      }
      this.pieces = [];
    }
  }

  private inFrame(): boolean {
    return this.state !== S.SeekSoi && this.state !== S.SeekSoiD8;
  }

  private afterSegment(): S {
    return this.marker === 0xda ? S.Entropy : S.MarkerFF;
  }

  private emit(chunk: Uint8Array, start: number, end: number, onFrame: (jpeg: Buffer) => void): void {
    let frame: Buffer;
    if (this.joined) {
      frame = Buffer.concat([this.joined.subarray(0, this.piecesBytes), chunk.subarray(start, end)]);
    } else if (this.pieces.length === 0) {
      frame = Buffer.from(chunk.buffer, chunk.byteOffset + start, end - start);
    } else {
      this.pieces.push(chunk.subarray(start, end));
      frame = Buffer.concat(this.pieces, this.piecesBytes + end - start);
    }
    this.reset();
    if (frame.length <= this.maxFrameBytes) onFrame(frame);
    else this.dropped++;
  }

  /** Drops the partial frame and looks for the next SOI from the current byte; returns the new start. */
  private corrupt(): number {
    this.dropped++;
    this.reset();
    return -1;
  }

  /** An SOI inside a frame: the producer cut the last frame short; start over at this SOI. */
  private restartAtSoi(chunk: Uint8Array, afterD8: number): number {
    this.dropped++;
    this.pieces = [];
    this.joined = null;
    this.piecesBytes = 0;
    this.state = S.MarkerFF;
    if (afterD8 >= 2 && chunk[afterD8 - 2] === 0xff) return afterD8 - 2;
    this.collect(SOI);
    return afterD8;
  }
}
