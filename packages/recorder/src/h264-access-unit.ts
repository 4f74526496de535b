/**
 * One H.264 access unit (a picture) in Annex-B form, taken apart for MP4: its NAL units as views
 * (no copy), whether it is an IDR picture, and its parameter sets. In an MP4 the parameter sets
 * live in the sample entry (avcC) and each NAL unit of a sample gets a 4-byte length instead of
 * a start code; access unit delimiters and filler data have no place in a sample.
 */
import { RecorderError } from './errors.js';
import { parseSps, type SpsInfo } from './h264-sps.js';

/** NAL unit types (H.264 table 7-1) that matter here. */
export const enum Nal {
  Slice = 1,
  SliceIdr = 5,
  Sei = 6,
  Sps = 7,
  Pps = 8,
  Aud = 9,
  Filler = 12,
}

/** An access unit ready for an MP4 sample. */
export interface H264Unit {
  /** The NAL units that go into the sample, in order (views into the caller's bytes). */
  readonly nals: readonly Uint8Array[];
  /** Bytes of the sample: 4 + length per NAL unit. */
  readonly sampleBytes: number;
  /** Holds an IDR slice: decoding can start here. */
  readonly keyframe: boolean;
  /** The stream's parameter sets: this unit's own, or the recording's when it carries none. */
  readonly sps: Uint8Array | undefined;
  readonly pps: Uint8Array | undefined;
  /** Parsed from `sps`. */
  readonly spsInfo: SpsInfo | undefined;
  readonly width: number;
  readonly height: number;
}

/** The NAL units of Annex-B bytes (start codes and trailing zero bytes removed), as views. */
export function annexBNals(data: Uint8Array): Uint8Array[] {
  const nals: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  const n = data.length;
  while (i + 2 < n) {
    if (data[i + 2]! > 1) {
      i += 3;
      continue;
    }
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) nals.push(trimZeros(data, start, i));
      start = i + 3;
      i += 3;
      continue;
    }
    i++;
  }
  if (start >= 0 && start < n) nals.push(trimZeros(data, start, n));
  return nals.filter((nal) => nal.length > 0);
}

function trimZeros(data: Uint8Array, start: number, end: number): Uint8Array {
  while (end > start && data[end - 1] === 0) end--;
  return data.subarray(start, end);
}

/** Whether `data` starts with an Annex-B start code (00 00 01 or 00 00 00 01). */
export function isAnnexB(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0 && data[1] === 0 && (data[2] === 1 || (data[2] === 0 && data[3] === 1));
}

/**
 * Takes an Annex-B access unit apart, or says why it cannot be recorded. `known` holds the
 * recording's parameter sets, used when the unit carries none of its own.
 */
export function parseAccessUnit(data: Uint8Array, known?: Pick<H264Unit, 'sps' | 'pps' | 'spsInfo'>): H264Unit | RecorderError {
  if (!isAnnexB(data)) return new RecorderError('INVALID_FRAME', 'not an Annex-B H.264 access unit: it must start with a start code (00 00 01 or 00 00 00 01)');
  const nals: Uint8Array[] = [];
  let sampleBytes = 0;
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  let slices = 0;
  let keyframe = false;
  for (const nal of annexBNals(data)) {
    const type = nal[0]! & 0x1f;
    if (type === Nal.Sps) sps ??= nal;
    else if (type === Nal.Pps) pps ??= nal;
    else if (type !== Nal.Aud && type !== Nal.Filler) {
      if (type === Nal.Slice || type === Nal.SliceIdr) slices++;
      if (type === Nal.SliceIdr) keyframe = true;
      nals.push(nal);
      sampleBytes += 4 + nal.length;
    }
  }
  if (slices === 0) return new RecorderError('INVALID_FRAME', 'the access unit holds no picture (no slice NAL unit): give one whole picture per frame');
  let spsInfo = known?.spsInfo;
  if (sps) {
    try {
      spsInfo = parseSps(sps);
    } catch (err) {
      return new RecorderError('INVALID_FRAME', `the access unit's SPS cannot be read (${(err as Error).message}): the stream is not H.264 an MP4 can hold`, { cause: err });
    }
  }
  return {
    nals,
    sampleBytes,
    keyframe,
    sps: sps ?? known?.sps,
    pps: pps ?? known?.pps,
    spsInfo,
    width: spsInfo?.width ?? 0,
    height: spsInfo?.height ?? 0,
  };
}

/** Whether two units describe the same stream (byte-equal SPS and PPS): one avcC fits both. */
export function sameParameterSets(a: Pick<H264Unit, 'sps' | 'pps'>, b: Pick<H264Unit, 'sps' | 'pps'>): boolean {
  return equalBytes(a.sps, b.sps) && equalBytes(a.pps, b.pps);
}

function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.compare(a, b) === 0;
}
