/**
 * What a recording's frames are, and the check that each one can go into its files: JPEGs for AVI
 * and raw MJPEG, H.264 access units for MP4. The recorder is the same for both; only this differs.
 */
import { isWholeJpeg, readJpegInfo } from '@edgecam/protocol';
import { RecorderError } from './errors.js';
import { type H264Unit, parseAccessUnit, sameParameterSets } from './h264-access-unit.js';

/** What the recorder needs to know of every accepted frame. */
export interface FrameInfo {
  readonly width: number;
  readonly height: number;
  /** A file may start here (every JPEG; an H.264 IDR picture with its parameter sets). */
  readonly keyframe: boolean;
}

export interface FrameFormat<I extends FrameInfo = FrameInfo> {
  /** The field of a frame object that holds the bytes: `{ jpeg }` or `{ h264 }`. */
  readonly field: 'jpeg' | 'h264';
  /** How to write such a frame, for a refusal: what the recording takes. */
  readonly expects: string;
  /** The frame's info, or why it cannot be recorded; `first` is the recording's first frame's. */
  check(bytes: Uint8Array, first: I | undefined): I | RecorderError;
}

export type JpegFrameInfo = FrameInfo;

export const jpegFrames: FrameFormat<JpegFrameInfo> = {
  field: 'jpeg',
  expects: 'a Buffer/Uint8Array of JPEG bytes, or { jpeg, captureTimeUs }',
  check(jpeg, first) {
    if (!isWholeJpeg(jpeg)) return new RecorderError('INVALID_FRAME', 'not a whole JPEG: a frame must start with SOI (FF D8) and end with EOI (FF D9)');
    let info: { width: number; height: number };
    try {
      info = readJpegInfo(jpeg);
    } catch (err) {
      return new RecorderError('INVALID_FRAME', 'the JPEG has no readable SOF marker, so its size is unknown', { cause: err });
    }
    if (first && (info.width !== first.width || info.height !== first.height)) {
      return new RecorderError('SIZE_MISMATCH', `a ${info.width}x${info.height} frame in a ${first.width}x${first.height} recording: start a new recording for the new size`);
    }
    return { width: info.width, height: info.height, keyframe: true };
  },
};

export const h264Frames: FrameFormat<H264Unit> = {
  field: 'h264',
  expects: 'an H.264 access unit in Annex-B form (one picture), as a Buffer/Uint8Array or { h264, captureTimeUs }',
  check(data, first) {
    const unit = parseAccessUnit(data, first);
    if (unit instanceof RecorderError) return unit;
    if (!first && (!unit.keyframe || !unit.sps || !unit.pps)) {
      return new RecorderError('NOT_KEYFRAME', 'an MP4 recording starts at a keyframe (IDR) carrying its SPS and PPS: skip access units until one');
    }
    if (first && !sameParameterSets(unit, first)) {
      return new RecorderError(
        'SIZE_MISMATCH',
        `the H.264 parameter sets changed (now ${unit.width}x${unit.height}, was ${first.width}x${first.height}): start a new recording for the new stream`,
      );
    }
    return unit;
  },
};
