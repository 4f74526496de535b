// Annex-B H.264 bytes to access units (one picture each, with the SPS/PPS/SEI before it). A new
// unit begins at an access unit delimiter, or at SPS/PPS/SEI or a slice with first_mb_in_slice 0
// once the current unit already holds a slice (H.264 7.4.1.2.3), so streams without delimiters
// split too. From the bytes alone a unit is known complete only when the next one begins, which
// costs one frame time; a caller that knows a write boundary is a picture boundary says so with end().
// The cursors work in one growing buffer; each emitted unit is copied once into a buffer of its
// own, which the receiver owns.

/** One H.264 picture in Annex-B form (start codes included). */
export interface AccessUnit {
  /** Annex-B bytes: every NAL unit of the picture, each after a start code. Owned by the receiver. */
  readonly data: Buffer;
  /** Holds an IDR slice: a decoder can start here. */
  readonly keyframe: boolean;
  /** Holds an SPS (and so, from our encoder, the PPS too). */
  readonly hasConfig: boolean;
  /** Capture time (µs, nowUs clock) of the camera frame this picture was encoded from. */
  timestampUs: number;
}

/** NAL unit types (H.264 table 7-1) the splitter looks at. */
export const enum NalType {
  Slice = 1, // non-IDR coded slice
  SliceIdr = 5, // IDR coded slice
  Sei = 6,
  Sps = 7,
  Pps = 8,
  Aud = 9, // access unit delimiter
}

const START_CODE_LENGTH = 3; // 00 00 01; a 4-byte start code is a zero byte then this
const INITIAL_CAPACITY = 256 * 1024;

/** A unit grew past the limit without an end: the input is not H.264 from our encoder. */
export class AccessUnitTooLarge extends Error {
  constructor(limit: number) {
    super(`an H.264 access unit grew past ${limit} bytes without ending; the encoder output is not Annex-B H.264`);
    this.name = 'AccessUnitTooLarge';
  }
}

/** Splits Annex-B H.264, pushed in chunks of any size, into access units. */
export class AccessUnitSplitter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private len = 0;
  /** Where the search for the next start code resumes. */
  private scan = 0;
  /** Offset of the current unit's first start code, or -1 before the first NAL. */
  private unitStart = -1;
  private hasSlice = false;
  private keyframe = false;
  private hasConfig = false;

  constructor(private readonly maxUnitBytes = 8 * 1024 * 1024) {}

  /** Feeds bytes; returns the units they completed. Throws AccessUnitTooLarge. */
  push(chunk: Uint8Array): AccessUnit[] {
    this.append(chunk);
    const out: AccessUnit[] = [];
    const b = this.buf;
    // A NAL header needs one byte past the start code, so stop that short of the end.
    while (this.scan + START_CODE_LENGTH < this.len) {
      const i = this.scan;
      if (b[i + 2]! > 1) {
        this.scan += 3;
        continue;
      }
      if (b[i] !== 0 || b[i + 1] !== 0 || b[i + 2] !== 1) {
        this.scan++;
        continue;
      }
      // The first slice byte past the header is needed for first_mb_in_slice.
      if (i + START_CODE_LENGTH + 1 >= this.len) break;
      const header = b[i + START_CODE_LENGTH]!;
      const type = header & 0x1f;
      // A zero before the start code belongs to it (4-byte form), not to the previous NAL.
      const nalStart = i > 0 && b[i - 1] === 0 ? i - 1 : i;
      if (this.unitStart >= 0 && this.startsUnit(type, b[i + START_CODE_LENGTH + 1]!)) {
        out.push(this.take(nalStart));
        this.scan = this.scan - nalStart + START_CODE_LENGTH;
      } else {
        this.scan = i + START_CODE_LENGTH;
      }
      if (this.unitStart < 0) this.unitStart = nalStart === i ? i : nalStart;
      this.note(type);
    }
    if (this.len - Math.max(this.unitStart, 0) > this.maxUnitBytes) {
      this.reset();
      throw new AccessUnitTooLarge(this.maxUnitBytes);
    }
    return out;
  }

  /**
   * The bytes pushed so far end a picture (the writer writes one picture per write): returns the
   * unit they hold, if it has a slice, without waiting for the next one to begin.
   */
  end(): AccessUnit | undefined {
    if (this.unitStart < 0 || !this.hasSlice) return undefined;
    const unit = this.take(this.len);
    this.unitStart = -1;
    this.scan = 0;
    return unit;
  }

  /** Whether a unit has begun and not yet been returned. */
  get inUnit(): boolean {
    return this.unitStart >= 0;
  }

  /** Forgets everything buffered (the encoder restarted). */
  reset(): void {
    this.len = 0;
    this.scan = 0;
    this.unitStart = -1;
    this.hasSlice = this.keyframe = this.hasConfig = false;
  }

  private startsUnit(type: number, firstPayloadByte: number): boolean {
    if (type === NalType.Aud) return true;
    if (!this.hasSlice) return false;
    if (type === NalType.Sps || type === NalType.Pps || type === NalType.Sei) return true;
    // first_mb_in_slice is ue(v); it is 0 exactly when the first bit is 1.
    return (type === NalType.Slice || type === NalType.SliceIdr) && (firstPayloadByte & 0x80) !== 0;
  }

  private note(type: number): void {
    if (type === NalType.Slice || type === NalType.SliceIdr) this.hasSlice = true;
    if (type === NalType.SliceIdr) this.keyframe = true;
    if (type === NalType.Sps) this.hasConfig = true;
  }

  /** Copies out the unit that ends at `end` and moves what follows to the front. */
  private take(end: number): AccessUnit {
    const data = Buffer.from(this.buf.subarray(this.unitStart, end));
    const unit: AccessUnit = { data, keyframe: this.keyframe, hasConfig: this.hasConfig, timestampUs: 0 };
    this.buf.copyWithin(0, end, this.len);
    this.len -= end;
    this.unitStart = 0;
    this.hasSlice = this.keyframe = this.hasConfig = false;
    return unit;
  }

  private append(chunk: Uint8Array): void {
    if (this.len + chunk.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }
}
