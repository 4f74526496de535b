import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CapturedFrame } from '@edgecam/protocol';
import { RecorderError, createRecorder, type RecordingSummary } from '@edgecam/recorder';
import { CliError, ExitCode, fileError } from './errors.js';
import type { RecordFormat } from './options.js';

/**
 * The one place the CLI touches @edgecam/recorder for writing: the record command, the shell
 * and the tests see only this small interface.
 */

export interface SegmentLimit {
  durationMs?: number;
  bytes?: number;
}

export interface RecordingOutcome {
  /** Every file written, in order (several with segments; none if no frame was accepted). */
  files: string[];
  format: RecordFormat;
  /** Frames in the files as closed. */
  frames: number;
  /** Size of the files together. */
  bytes: number;
  width: number;
  height: number;
  /** The rate the files say (measured from the frames' timestamps). */
  fps: number;
  /** Set when a write error closed the recording early (the files keep what reached the disk). */
  error?: CliError;
}

export interface RecordingTarget {
  /** Resolves true when the frame was accepted, false when it was refused (bad JPEG, other size). */
  write(frame: CapturedFrame): Promise<boolean>;
  /** Finishes every file with its index. Resolves even after a write error (see `error`). */
  close(): Promise<RecordingOutcome>;
  /** Bytes on disk so far (refreshed a few times a second; for the progress line). */
  bytes(): number;
}

export interface TargetOptions {
  /** The output name; may hold the recorder's tokens ({index}, {unixms}, %Y%m%d...). */
  path: string;
  format: RecordFormat;
  segment: SegmentLimit | undefined;
  log: Logger;
}

/** Refusals that concern one frame: the recording goes on without it. */
const FRAME_REFUSALS = new Set(['INVALID_FRAME', 'SIZE_MISMATCH', 'TOO_LARGE', 'QUEUE_FULL']);
const STAT_INTERVAL_MS = 250;

export function openRecordingTarget(opts: TargetOptions): RecordingTarget {
  let closedBytes = 0;
  let currentBytes = 0;
  let statAt = 0;
  const recorder = createRecorder(opts.path, {
    format: opts.format,
    ...(opts.segment !== undefined
      ? { segment: { durationMs: opts.segment.durationMs, maxBytes: opts.segment.bytes } }
      : {}),
    onEvent: (e) => {
      switch (e.type) {
        case 'opened':
          opts.log.debug({ path: e.path }, 'recording file opened');
          break;
        case 'segment':
          opts.log.info({ previous: e.previous, path: e.path }, `new segment: ${e.path}`);
          break;
        case 'closed':
          closedBytes += e.file.bytes;
          currentBytes = 0;
          break;
        case 'rejected':
          opts.log.warn({ code: e.error.code, seq: e.seq }, `frame refused: ${e.error.message}`);
          break;
        default:
          break;
      }
    },
  });

  return {
    async write(frame) {
      try {
        await recorder.write(frame);
        return true;
      } catch (err) {
        if (err instanceof RecorderError && FRAME_REFUSALS.has(err.code)) return false;
        throw toCliError(err, recorder.stats.path ?? opts.path);
      }
    },
    async close() {
      return outcomeOf(await recorder.close(), opts.format, opts.path);
    },
    bytes() {
      const path = recorder.stats.path;
      const now = performance.now();
      if (path !== undefined && now - statAt > STAT_INTERVAL_MS) {
        statAt = now;
        stat(path).then(
          (s) => {
            if (recorder.stats.path === path) currentBytes = s.size;
          },
          () => undefined,
        );
      }
      return closedBytes + currentBytes;
    },
  };
}

function toCliError(err: unknown, path: string): CliError {
  if (err instanceof RecorderError && err.code === 'WRITE_FAILED') {
    return fileError('write', path, { code: err.errno, message: err.message });
  }
  if (err instanceof RecorderError) return new CliError(ExitCode.FILE, `could not record to ${path}: ${err.message}`, { cause: err });
  return fileError('write', path, err);
}

function outcomeOf(s: RecordingSummary, format: RecordFormat, path: string): RecordingOutcome {
  const first = s.files[0];
  const seconds = s.files.reduce((n, f) => n + f.durationSeconds, 0);
  const frames = s.files.reduce((n, f) => n + f.frames, 0);
  // One file: the rate it states. Several: frames over their total span.
  const fps =
    s.files.length === 1 && first !== undefined
      ? first.frameRate.num / first.frameRate.den
      : seconds > 0
        ? frames / seconds
        : 0;
  return {
    files: s.files.map((f) => f.path),
    format,
    frames: s.frames,
    bytes: s.files.reduce((n, f) => n + f.bytes, 0),
    width: first?.width ?? 0,
    height: first?.height ?? 0,
    fps,
    ...(s.error !== undefined ? { error: toCliError(s.error, s.files.at(-1)?.path ?? path) } : {}),
  };
}
