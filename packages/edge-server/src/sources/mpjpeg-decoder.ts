// Incremental parser for ffmpeg's `-f mpjpeg` output:
//   --ffmpeg\r\n
//   Content-type: image/jpeg\r\n
//   Content-length: N\r\n
//   \r\n
//   <N bytes of JPEG>\r\n
//   --ffmpeg\r\n ...
// Headers are read line by line up to the blank line, then exactly Content-length bytes are
// taken: the JPEG is never scanned for a boundary. Both the header block and the claimed frame
// size are bounded before anything is buffered, so a broken or hostile producer cannot make us
// allocate what it claims.
// HTTP cameras send the same layout, some without Content-length: given the response's boundary,
// such a part runs to the next `\r\n--boundary`, hunted for in at most maxFrameBytes.
import { EdgeServerError } from '../errors.js';

/** Default of MpjpegDecoderOptions.maxHeaderBytes. */
export const DEFAULT_MAX_MPJPEG_HEADER_BYTES = 8 * 1024;
/** Default of MpjpegDecoderOptions.maxFrameBytes. */
export const DEFAULT_MAX_MPJPEG_FRAME_BYTES = 16 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const COLON = 0x3a;
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');

/** Whether line[0, colon) is `Content-length`, any case, blanks around it allowed. */
function isContentLength(line: Buffer, colon: number): boolean {
  let start = 0;
  let end = colon;
  while (start < end && (line[start] === 0x20 || line[start] === 0x09)) start++;
  while (end > start && (line[end - 1] === 0x20 || line[end - 1] === 0x09)) end--;
  if (end - start !== CONTENT_LENGTH.length) return false;
  for (let i = 0; i < CONTENT_LENGTH.length; i++) {
    const c = line[start + i] as number;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== CONTENT_LENGTH[i]) return false;
  }
  return true;
}

/** Options of MpjpegDecoder. */
export interface MpjpegDecoderOptions {
  /** Bytes allowed between the end of one part's body and the blank line ending the next part's headers. */
  maxHeaderBytes?: number;
  /** Largest Content-length accepted, and the longest a part without one may grow. */
  maxFrameBytes?: number;
  /** The multipart boundary (from an HTTP Content-Type): parts without Content-length end at it. Without it they are refused. */
  boundary?: string;
}

/** The bytes that end a part without Content-length: CRLF, then the boundary line's `--boundary`. */
function delimiterOf(boundary: string): Buffer {
  // Some cameras put the leading dashes into the Content-Type's boundary parameter already.
  return Buffer.from(`\r\n${boundary.startsWith('--') ? boundary : `--${boundary}`}`, 'latin1');
}

/** Splits ffmpeg's mpjpeg output into JPEGs. */
export class MpjpegDecoder {
  private readonly maxHeaderBytes: number;
  private readonly maxFrameBytes: number;
  // Header state: the current line, and how much of the header budget this part has used.
  private readonly line: Buffer;
  private lineLength = 0;
  private headerBytes = 0;
  private sawHeader = false;
  private contentLength: number | null = null;
  // Body state: a frame spread over several chunks is copied once into a buffer of its size.
  private inBody = false;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failure: EdgeServerError | null = null;
  // A part without Content-length: its bytes from earlier chunks, while the delimiter is hunted.
  private readonly delimiter: Buffer | null;
  private held: Buffer | null = null;
  private heldFilled = 0;

  constructor(opts: MpjpegDecoderOptions = {}) {
    this.maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_MPJPEG_HEADER_BYTES;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_MPJPEG_FRAME_BYTES;
    this.line = Buffer.alloc(this.maxHeaderBytes);
    this.delimiter = opts.boundary ? delimiterOf(opts.boundary) : null;
  }

  /** Bytes held for an incomplete header line or frame. */
  get bufferedBytes(): number {
    return this.lineLength + this.bodyFilled + this.heldFilled;
  }

  /**
   * Feeds a chunk; calls onFrame for every complete part. A part that lies inside the chunk is
   * a view of it (the caller must not mutate the chunk afterwards). Throws EdgeServerError on a
   * malformed stream, and DECODER_FAILED on any push after that until reset().
   */
  push(chunk: Uint8Array, onFrame: (jpeg: Buffer) => void): void {
    if (this.failure) {
      throw new EdgeServerError('DECODER_FAILED', `mpjpeg decoder failed earlier (${this.failure.code}); reset() it first`);
    }
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      if (!this.inBody) {
        offset = this.readHeaders(chunk, offset, end);
        continue;
      }
      if (this.contentLength === null) {
        offset = this.hunt(chunk, offset, end, onFrame);
        continue;
      }
      const length = this.contentLength as number;
      if (this.body === null && end - offset >= length) {
        const frame = Buffer.from(chunk.buffer, chunk.byteOffset + offset, length);
        offset += length;
        this.startHeaders();
        onFrame(frame);
        continue;
      }
      if (this.body === null) this.body = Buffer.allocUnsafeSlow(length);
      const take = Math.min(length - this.bodyFilled, end - offset);
      this.body.set(chunk.subarray(offset, offset + take), this.bodyFilled);
      this.bodyFilled += take;
      offset += take;
      if (this.bodyFilled === length) {
        const frame = this.body;
        this.startHeaders();
        onFrame(frame);
      }
    }
  }

  reset(): void {
    this.failure = null;
    this.startHeaders();
  }

  private startHeaders(): void {
    this.inBody = false;
    this.body = null;
    this.bodyFilled = 0;
    this.held = null;
    this.heldFilled = 0;
    this.lineLength = 0;
    this.headerBytes = 0;
    this.sawHeader = false;
    this.contentLength = null;
  }

  /**
   * A part without Content-length: consumes body bytes from offset up to the delimiter; returns
   * where the boundary line starts (for readHeaders), or end when the part goes on. Only the
   * chunk is searched, plus the few held bytes a delimiter split across chunks can start in, so
   * no byte is scanned twice.
   */
  private hunt(chunk: Uint8Array, offset: number, end: number, onFrame: (jpeg: Buffer) => void): number {
    const d = this.delimiter as Buffer;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // A delimiter that began in the held bytes: compare what this chunk has of its rest.
    for (let k = Math.max(0, this.heldFilled - d.length + 1); k < this.heldFilled; k++) {
      const inHeld = this.heldFilled - k;
      const held = this.held as Buffer;
      if (held.compare(d, 0, inHeld, k, this.heldFilled) !== 0) continue;
      const wanted = Math.min(d.length - inHeld, end - offset);
      if (bytes.compare(d, inHeld, inHeld + wanted, offset, offset + wanted) !== 0) continue;
      if (wanted < d.length - inHeld) break; // the chunk ends inside a possible delimiter: keep it
      const frame = held.subarray(0, k);
      const tail = held.subarray(Math.min(k + 2, this.heldFilled), this.heldFilled);
      this.endHuntedPart(frame, onFrame);
      // The boundary's dashes already held go to the header reader first, then the chunk.
      this.readHeaders(tail, 0, tail.length);
      return offset + Math.max(0, 2 - inHeld);
    }
    const at = bytes.indexOf(d, offset);
    if (at !== -1 && at + d.length <= end) {
      let frame: Buffer;
      if (this.heldFilled === 0) frame = bytes.subarray(offset, at);
      else {
        this.hold(bytes, offset, at);
        frame = (this.held as Buffer).subarray(0, this.heldFilled);
      }
      this.endHuntedPart(frame, onFrame);
      return at + 2; // past the CRLF: the boundary line is the header reader's
    }
    this.hold(bytes, offset, end);
    return end;
  }

  /** Appends bytes of a part without Content-length; a part growing past the limit is refused. */
  private hold(bytes: Buffer, from: number, to: number): void {
    const n = to - from;
    const needed = this.heldFilled + n;
    // The limit leaves room for a delimiter that has begun but not yet ended.
    if (needed > this.maxFrameBytes + (this.delimiter as Buffer).length) {
      this.fail('FRAME_TOO_LARGE', `mpjpeg part without Content-length grew past the ${this.maxFrameBytes}-byte limit with no boundary`);
    }
    if (this.held === null || this.held.length < needed) {
      const grown = Buffer.allocUnsafeSlow(Math.min(Math.max(needed, 2 * (this.held?.length ?? 32 * 1024)), this.maxFrameBytes + (this.delimiter as Buffer).length));
      if (this.held) this.held.copy(grown, 0, 0, this.heldFilled);
      this.held = grown;
    }
    bytes.copy(this.held, this.heldFilled, from, to);
    this.heldFilled = needed;
  }

  /** Delivers a hunted part (its buffer now belongs to the receiver) and starts the next part's headers. */
  private endHuntedPart(frame: Buffer, onFrame: (jpeg: Buffer) => void): void {
    if (frame.length > this.maxFrameBytes) {
      this.fail('FRAME_TOO_LARGE', `mpjpeg part of ${frame.length} bytes is over the ${this.maxFrameBytes}-byte limit`);
    }
    this.startHeaders();
    onFrame(frame);
  }

  /** Consumes header bytes from offset; returns the new offset (the body start once headers end). */
  private readHeaders(chunk: Uint8Array, offset: number, end: number): number {
    while (offset < end && !this.inBody) {
      const lf = chunk.indexOf(LF, offset);
      const stop = lf === -1 || lf >= end ? end : lf;
      const n = stop - offset;
      const used = this.headerBytes + n + (stop < end ? 1 : 0);
      if (used > this.maxHeaderBytes) {
        this.fail('MPJPEG_HEADER_TOO_LARGE', `mpjpeg part headers longer than ${this.maxHeaderBytes} bytes`);
      }
      this.line.set(chunk.subarray(offset, stop), this.lineLength);
      this.lineLength += n;
      this.headerBytes = used;
      offset = stop;
      if (stop < end) {
        offset++; // the LF
        this.endLine();
      }
    }
    return offset;
  }

  private endLine(): void {
    let length = this.lineLength;
    if (length > 0 && this.line[length - 1] === CR) length--;
    this.lineLength = 0;
    if (length === 0) {
      // A blank line ends the headers only once a header was seen: the CRLF that follows each
      // body and the boundary's own line come before any header and are skipped.
      if (!this.sawHeader) return;
      if (this.contentLength === null && this.delimiter === null) this.fail('MPJPEG_BAD_LENGTH', 'mpjpeg part without a Content-length header');
      this.inBody = true;
      return;
    }
    if (length >= 2 && this.line[0] === DASH && this.line[1] === DASH) {
      // Boundary line: a new part starts; forget anything from a part that had no body.
      this.sawHeader = false;
      this.contentLength = null;
      return;
    }
    this.sawHeader = true;
    // The name is compared in place: the other headers (Content-type, X-Timestamp) are never
    // decoded to a string, once per frame each.
    const colon = this.line.indexOf(COLON);
    if (colon === -1 || colon >= length) return; // not a header we understand; mpjpeg producers only add known ones
    if (!isContentLength(this.line, colon)) return;
    const value = this.line.toString('latin1', colon + 1, length).trim();
    if (!/^\d{1,10}$/.test(value)) this.fail('MPJPEG_BAD_LENGTH', `mpjpeg Content-length is not a number: ${JSON.stringify(value.slice(0, 32))}`);
    const n = Number(value);
    if (n === 0) this.fail('MPJPEG_BAD_LENGTH', 'mpjpeg Content-length is 0');
    if (n > this.maxFrameBytes) this.fail('FRAME_TOO_LARGE', `mpjpeg part of ${n} bytes is over the ${this.maxFrameBytes}-byte limit`);
    this.contentLength = n;
  }

  private fail(code: 'MPJPEG_HEADER_TOO_LARGE' | 'MPJPEG_BAD_LENGTH' | 'FRAME_TOO_LARGE', message: string): never {
    this.failure = new EdgeServerError(code, message);
    this.lineLength = 0;
    this.body = null;
    this.bodyFilled = 0;
    this.held = null;
    this.heldFilled = 0;
    throw this.failure;
  }
}
