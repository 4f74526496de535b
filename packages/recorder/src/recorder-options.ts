// The recorder's options: what a caller may set, their defaults and limits, and the one check
// that turns them into the settings a recorder runs with (or an INVALID_OPTIONS error).
import { RecorderError } from './errors.js';
import { formatFromName } from './file-name.js';
import { nodeFs, type RecorderFs } from './file-system.js';
import type { FileSummary, RecordingFormat } from './file-writer.js';
import { type FrameRate, normalizeRate } from './frame-rate.js';

export type RecorderEvent =
  /** A file was created (at its first frame: a recording without frames creates no file). */
  | { readonly type: 'opened'; readonly path: string; readonly segment: number }
  /** The recording rolled over: frames from now on go to `path`; `previous` is being closed. */
  | { readonly type: 'segment'; readonly previous: string; readonly path: string; readonly segment: number }
  /** A file is finished and indexed (or, with `file.error`, closed early by a write error). */
  | { readonly type: 'closed'; readonly file: FileSummary }
  /** Every progressIntervalMs while frames arrive. */
  | {
      readonly type: 'progress';
      readonly path: string;
      readonly frames: number;
      readonly bytes: number;
      readonly rejected: number;
      /** Frames per second accepted over the last interval. */
      readonly fps: number;
    }
  /** A frame was refused (INVALID_FRAME, SIZE_MISMATCH, TOO_LARGE, QUEUE_FULL); recording goes on. */
  | { readonly type: 'rejected'; readonly error: RecorderError; readonly seq?: number }
  /** A write error ended the recording (emitted once; 'closed' follows for the file). */
  | { readonly type: 'error'; readonly error: RecorderError };

export interface SegmentOptions {
  /** Start a new file once a file spans this long (by frame timestamps). */
  readonly durationMs?: number;
  /** Start a new file before a file (closed, with its index) would pass this size. */
  readonly maxBytes?: number;
}

export interface RecorderOptions {
  /** 'avi' or 'mjpeg' (JPEG frames), 'mp4' (H.264 access units); by default from the extension (.avi, .mjpeg, .mjpg, .mp4). */
  readonly format?: RecordingFormat;
  /** Fix the rate (fps, or num/den) instead of measuring it from the frames' timestamps. */
  readonly frameRate?: number | FrameRate;
  /** AVI: continue in an OpenDML AVIX RIFF before a RIFF passes this size. Default 1 GiB. */
  readonly riffThreshold?: number;
  /** Patch sizes and counts this often so a killed process leaves a playable file. Default 2000; 0: only at close. */
  readonly checkpointIntervalMs?: number;
  /** datasync at each checkpoint and at close (power-loss safety). Default true. */
  readonly fsync?: boolean;
  /**
   * Let frames wait in memory up to this long so that several are written with one system call
   * (less CPU per frame at camera rates); a process killed meanwhile loses them. At most
   * checkpointIntervalMs (when that is not 0). Default 0: each frame is written at once.
   */
  readonly writeDelayMs?: number;
  readonly segment?: SegmentOptions;
  /**
   * Name each file by its first frame's capture time ({unixms}, %Y...) rather than the time it
   * opens: the frames' captureTimeUs must then be Unix time in µs. An MP4's times count from
   * that frame, so its name is then the exact wall-clock time of its time 0. Default false.
   */
  readonly namesFromCaptureTime?: boolean;
  /** Frame bytes held in memory before write() makes callers wait. Default 8 MiB. */
  readonly maxQueueBytes?: number;
  /** Frames held in memory before write() makes callers wait. Default 256. */
  readonly maxQueueFrames?: number;
  /** Larger frames are refused with TOO_LARGE. Default 16 MiB, at most 64 MiB. */
  readonly maxFrameBytes?: number;
  /** How often a 'progress' event is emitted. Default 1000; 0: never. */
  readonly progressIntervalMs?: number;
  readonly onEvent?: (event: RecorderEvent) => void;
  /** The file layer (tests inject failing disks). Default: node:fs. */
  readonly fs?: RecorderFs;
}

export const DEFAULT_RIFF_THRESHOLD = 1024 ** 3;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 2000;
export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_QUEUE_FRAMES = 256;
export const DEFAULT_RECORDER_MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_FRAME_BYTES_LIMIT = 64 * 1024 * 1024;
/** Below this a RIFF cannot hold its own header and a frame. */
const MIN_RIFF_THRESHOLD = 16 * 1024;
/** Keeps every RIFF (threshold + one frame + indexes) under 2 GiB, which readers treat as signed. */
const MAX_RIFF_THRESHOLD = 2 * 1024 ** 3 - 2 * MAX_FRAME_BYTES_LIMIT;

/** The options checked, with every default filled in. */
export interface Settings {
  readonly pattern: string;
  readonly format: RecordingFormat;
  readonly frameRate: FrameRate | undefined;
  readonly riffThreshold: number;
  readonly checkpointIntervalMs: number;
  readonly fsync: boolean;
  readonly writeDelayMs: number;
  readonly segment: SegmentOptions | undefined;
  readonly namesFromCaptureTime: boolean;
  readonly maxQueueBytes: number;
  readonly maxQueueFrames: number;
  readonly maxFrameBytes: number;
  readonly progressIntervalMs: number;
  readonly onEvent: ((event: RecorderEvent) => void) | undefined;
  readonly fs: RecorderFs;
}

/** The options checked and completed; throws INVALID_OPTIONS naming the option and its range. */
export function settingsFrom(pattern: string, o: RecorderOptions): Settings {
  const bad = (what: string): RecorderError => new RecorderError('INVALID_OPTIONS', what);
  if (typeof pattern !== 'string' || pattern.length === 0) throw bad('the file name must be a non-empty string');
  const format = o.format ?? formatFromName(pattern);
  if (format !== 'avi' && format !== 'mjpeg' && format !== 'mp4') {
    throw bad(`cannot tell the format of ${JSON.stringify(pattern)}: name it .avi, .mjpeg, .mjpg or .mp4, or pass format: 'avi' | 'mjpeg' | 'mp4'`);
  }
  let frameRate: FrameRate | undefined;
  if (o.frameRate !== undefined) {
    frameRate = normalizeRate(o.frameRate);
    if (!frameRate) throw bad('frameRate must be between 0.01 and 1000 fps (a number, or { num, den } of positive integers)');
  }
  const int = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
    return v;
  };
  const seg = o.segment;
  if (seg !== undefined) {
    if (seg.durationMs === undefined && seg.maxBytes === undefined) throw bad('segment needs durationMs or maxBytes');
    if (seg.durationMs !== undefined) int('segment.durationMs', seg.durationMs, 0, 1, 2 ** 31);
    if (seg.maxBytes !== undefined) int('segment.maxBytes', seg.maxBytes, 0, 1024, Number.MAX_SAFE_INTEGER);
  }
  const checkpointIntervalMs = int('checkpointIntervalMs', o.checkpointIntervalMs, DEFAULT_CHECKPOINT_INTERVAL_MS, 0, 2 ** 31 - 1);
  // Held frames are written before each checkpoint, so a checkpoint never waits for them longer than this.
  const writeDelayMs = int('writeDelayMs', o.writeDelayMs, 0, 0, checkpointIntervalMs > 0 ? checkpointIntervalMs : 2 ** 31 - 1);
  return {
    pattern,
    format,
    frameRate,
    riffThreshold: int('riffThreshold', o.riffThreshold, DEFAULT_RIFF_THRESHOLD, MIN_RIFF_THRESHOLD, MAX_RIFF_THRESHOLD),
    checkpointIntervalMs,
    fsync: o.fsync ?? true,
    writeDelayMs,
    segment: seg,
    namesFromCaptureTime: o.namesFromCaptureTime ?? false,
    maxQueueBytes: int('maxQueueBytes', o.maxQueueBytes, DEFAULT_MAX_QUEUE_BYTES, 1, 2 ** 31),
    maxQueueFrames: int('maxQueueFrames', o.maxQueueFrames, DEFAULT_MAX_QUEUE_FRAMES, 1, 2 ** 20),
    maxFrameBytes: int('maxFrameBytes', o.maxFrameBytes, DEFAULT_RECORDER_MAX_FRAME_BYTES, 1, MAX_FRAME_BYTES_LIMIT),
    progressIntervalMs: int('progressIntervalMs', o.progressIntervalMs, 1000, 0, 2 ** 31 - 1),
    onEvent: o.onEvent,
    fs: o.fs ?? nodeFs,
  };
}
