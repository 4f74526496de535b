import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Subject } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { RecorderError, recordTo, type FileSummary, type RecorderEvent, type RecorderFs } from '@edgecam/recorder';
import { CliError, ExitCode, fileError } from './errors.js';
import type { RecordStats } from './record-stats.js';

export type RecordFormat = 'avi' | 'mjpeg';

/** The container, from the output file's extension. */
export function recordFormatOf(path: string): RecordFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.avi')) return 'avi';
  if (lower.endsWith('.mjpeg') || lower.endsWith('.mjpg')) return 'mjpeg';
  return undefined;
}

/** When to start a new file: after a duration (by frame timestamps) or before a size. */
export interface SegmentLimit {
  durationMs?: number;
  bytes?: number;
}

/** What a finished recording holds. */
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
}

/** What the files play for: their frames at the rate they state (the time taken, when they state none). */
export function playSeconds(o: RecordingOutcome, elapsedMs: number): number {
  return o.fps > 0 ? o.frames / o.fps : elapsedMs / 1000;
}

/** Where and how to record. */
export interface RecordingOptions {
  /** The output name; may hold the recorder's tokens ({index}, {unixms}, %Y%m%d...). */
  path: string;
  format: RecordFormat;
  segment: SegmentLimit | undefined;
  log: Logger;
  /** For tests: the recorder's file layer (a slow disk) and queue bound. */
  tuning?: { fs?: RecorderFs; maxQueueFrames?: number };
}

const STAT_INTERVAL_MS = 250;
/**
 * Frames wait up to this long to be written together: at 30 fps about 15 frames in one writev
 * instead of 15, each a hand-over to libuv's pool and back (tools/bench/analyses.md).
 * A quarter of the recorder's 2 s checkpoint interval: a killed recording stays playable up to
 * its last checkpoint, as before, and loses at most this much more of what was not yet written.
 */
export const WRITE_DELAY_MS = 500;

/**
 * Frames from the network into recordTo(), as they come. The recorder's write queue is the one
 * bound on memory. With `onBackpressure` the caller stops reading while the queue is full and no
 * frame received is lost; without it, a frame the queue has no room for is counted in
 * `stats.dropped`. A frame the recorder refuses (not a whole JPEG, another size) is counted in
 * `stats.rejected`. No frame means no file.
 */
export class Recording {
  private readonly frames = new Subject<CapturedFrame>();
  private readonly files: FileSummary[] = [];
  private readonly done: Promise<void>;
  private path: string | undefined;
  private closedBytes = 0;
  private currentBytes = 0;
  private statAt = 0;
  private pushed = 0;
  private refused = 0;
  /** Why the first refused frame was refused. */
  firstRefusal: string | undefined;
  /** Set when the recording could not be written: the files keep what reached the disk. */
  failure: CliError | undefined;

  constructor(
    private readonly opts: RecordingOptions,
    private readonly stats: RecordStats,
    /** Called once when writing fails, so the caller can stop the stream. */
    onFailure: (err: CliError) => void,
    /** true: the write queue is full, stop reading; false: go on (see recordTo). */
    onBackpressure?: (full: boolean) => void,
  ) {
    const seg = opts.segment;
    const events$ = this.frames.pipe(
      recordTo({
        path: opts.path,
        format: opts.format,
        writeDelayMs: WRITE_DELAY_MS,
        ...(seg !== undefined ? { segment: { durationMs: seg.durationMs, maxBytes: seg.bytes } } : {}),
        ...(onBackpressure !== undefined ? { onBackpressure } : {}),
        ...opts.tuning,
      }),
    );
    this.done = new Promise((resolve) =>
      events$.subscribe({
        next: (e) => this.onEvent(e),
        error: (err: unknown) => {
          this.failure = this.toCliError(err);
          onFailure(this.failure);
          resolve();
        },
        complete: resolve,
      }),
    );
  }

  /** Hands one frame to the recorder (a plain call: this is the per-frame path). */
  push(f: CapturedFrame): void {
    this.pushed++;
    this.frames.next(f);
  }

  /**
   * Frames that are in the file or on their way there: pushed, less those refused. Exact while
   * the queue has room (a refusal is known at once); frames held behind a full queue count.
   */
  accepted(): number {
    return this.pushed - this.refused;
  }

  /** Writes what is queued, then closes every file with its index. Undefined when no file was made. */
  async close(): Promise<RecordingOutcome | undefined> {
    this.frames.complete();
    await this.done;
    return this.files.length === 0 ? undefined : this.outcome();
  }

  /** Bytes on disk so far (refreshed a few times a second; for the progress line). */
  bytes(): number {
    const path = this.path;
    const now = performance.now();
    if (path !== undefined && now - this.statAt > STAT_INTERVAL_MS) {
      this.statAt = now;
      stat(path).then(
        (s) => {
          if (this.path === path) this.currentBytes = s.size;
        },
        () => undefined,
      );
    }
    return this.closedBytes + this.currentBytes;
  }

  private onEvent(e: RecorderEvent): void {
    const { log } = this.opts;
    switch (e.type) {
      case 'opened':
        this.path = e.path;
        log.debug({ path: e.path }, 'recording file opened');
        break;
      case 'segment':
        this.path = e.path;
        log.info({ previous: e.previous, path: e.path }, `new segment: ${e.path}`);
        break;
      case 'closed':
        this.files.push(e.file);
        this.closedBytes += e.file.bytes;
        if (e.file.path === this.path) this.currentBytes = 0;
        break;
      case 'rejected':
        if (e.error.code === 'QUEUE_FULL') {
          this.stats.dropped++;
        } else {
          this.stats.rejected++;
          this.refused++;
          this.firstRefusal ??= e.error.message;
          log.warn({ code: e.error.code, seq: e.seq }, `frame refused: ${e.error.message}`);
        }
        break;
      default:
        break;
    }
  }

  private toCliError(err: unknown): CliError {
    const path = this.files.find((f) => f.error !== undefined)?.path ?? this.path ?? this.opts.path;
    if (err instanceof RecorderError && err.code === 'WRITE_FAILED') {
      return fileError('write', path, { code: err.errno, message: err.message });
    }
    if (err instanceof RecorderError) return new CliError(ExitCode.FILE, `could not record to ${path}: ${err.message}`, { cause: err });
    return fileError('write', path, err);
  }

  private outcome(): RecordingOutcome {
    const files = [...this.files].sort((a, b) => a.segment - b.segment);
    const first = files[0];
    const seconds = files.reduce((n, f) => n + f.durationSeconds, 0);
    const frames = files.reduce((n, f) => n + f.frames, 0);
    // One file: the rate it states. Several: frames over their total span.
    const fps =
      files.length === 1 && first !== undefined
        ? first.frameRate.num / first.frameRate.den
        : seconds > 0
          ? frames / seconds
          : 0;
    return {
      files: files.map((f) => f.path),
      format: this.opts.format,
      frames,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      width: first?.width ?? 0,
      height: first?.height ?? 0,
      fps,
    };
  }
}
