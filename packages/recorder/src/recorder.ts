/**
 * The recorder: validates frames, measures time, rolls segments, bounds memory, checkpoints, and
 * hands each file's bytes to an AVI, MJPEG or MP4 writer. JPEGs go to the first two, H.264
 * access units to MP4 (frame-format.ts); everything else is the same for both.
 */
import { AviWriter } from './avi-writer.js';
import { RecorderError } from './errors.js';
import { expandFileName } from './file-name.js';
import type { FileSummary, FileWriterOptions, FrameFileWriter } from './file-writer.js';
import { type FrameFormat, type FrameInfo, h264Frames, jpegFrames } from './frame-format.js';
import { MjpegWriter } from './mjpeg-writer.js';
import { Mp4Writer } from './mp4-writer.js';
import { settingsFrom, type RecorderEvent, type RecorderOptions, type Settings } from './recorder-options.js';

export {
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_FRAMES,
  DEFAULT_RECORDER_MAX_FRAME_BYTES,
  DEFAULT_RIFF_THRESHOLD,
  type RecorderEvent,
  type RecorderOptions,
  type SegmentOptions,
} from './recorder-options.js';

/** A frame to record. `CapturedFrame` from @edgecam/protocol is one; seq is only reported back. */
export interface RecorderFrame {
  readonly jpeg: Uint8Array;
  /** Capture time in µs (any epoch): the rate is measured from these when the source gives them. */
  readonly captureTimeUs?: number;
  readonly seq?: number;
}

/** A picture for an MP4 recording: one H.264 access unit in Annex-B form (start codes). */
export interface H264Frame {
  readonly h264: Uint8Array;
  /** Capture time in µs (any epoch): the sample's time in the file. */
  readonly captureTimeUs?: number;
  readonly seq?: number;
}

export interface RecorderStats {
  /** Frames accepted. */
  readonly frames: number;
  /** JPEG bytes accepted. */
  readonly bytes: number;
  /** Frames refused (bad JPEG, other size, too large, queue full). */
  readonly rejected: number;
  /** Files opened so far. */
  readonly files: number;
  /** Frame bytes waiting in memory to be written. */
  readonly pendingBytes: number;
  /** The file frames currently go to. */
  readonly path: string | undefined;
}

export interface RecordingSummary {
  /** Every file of the recording, in order. */
  readonly files: FileSummary[];
  /** Frames in the files as closed. */
  readonly frames: number;
  readonly rejected: number;
  /** The write error that ended the recording early, if one did. */
  readonly error?: RecorderError;
}

export interface Recorder {
  /**
   * Queue a frame. Resolves as soon as the queue has room again (at once while it is below
   * maxQueueBytes/maxQueueFrames), so `await recorder.write(f)` in a loop never holds more than
   * that in memory. A write made while the queue is full is refused with QUEUE_FULL. Rejects with
   * a RecorderError for a refused frame, CLOSED after close(), WRITE_FAILED after a write error.
   * The recorder keeps a reference to the bytes until they are written: do not modify them.
   */
  write(frame: RecorderFrame | H264Frame | Uint8Array): Promise<void>;
  /** Checkpoint now and wait until everything accepted is on disk in a playable file. */
  flush(): Promise<void>;
  /** Finish every file (index, sizes, counts, rate). Resolves even after a write error (see `error`). */
  close(): Promise<RecordingSummary>;
  readonly stats: RecorderStats;
  readonly closed: boolean;
}

/**
 * A recorder writing to `path` (a file name pattern, see file-name.ts): AVI or raw MJPEG of JPEGs,
 * or fragmented MP4 of H.264, by the extension or `options.format`. No file is created before
 * the first valid frame.
 */
export function createRecorder(path: string, options: RecorderOptions = {}): Recorder {
  return createFileRecorder(path, options);
}

/** createRecorder() with the per-frame calls recordTo uses (put, room); not exported by the package. */
export function createFileRecorder(path: string, options: RecorderOptions): FileRecorder {
  return new FileRecorder(settingsFrom(path, options));
}

export class FileRecorder implements Recorder {
  private readonly s: Settings;
  private readonly kind: FrameFormat;
  private writer: FrameFileWriter | undefined;
  /** The current writer and those still closing: all of their queued bytes count. */
  private readonly live = new Set<FrameFileWriter>();
  private readonly closingFiles = new Set<Promise<void>>();
  private readonly retired = new WeakSet<FrameFileWriter>();
  private readonly summaries: FileSummary[] = [];
  private roomWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** The recording's first frame: later ones must match it (size; H.264 parameter sets). */
  private firstFrame: FrameInfo | undefined;
  /** After a refusal (and before the first frame) only a keyframe may come next: H.264 decodes from one. */
  private resync = true;
  private timeSource: 'capture' | 'arrival' | undefined;
  private segments = 0;
  private framesAccepted = 0;
  private bytesAccepted = 0;
  private refused = 0;
  private failure: RecorderError | undefined;
  private closePromise: Promise<RecordingSummary> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private checkpointedFrames = -1;
  private progressFrames = 0;
  private progressAt = 0;

  constructor(settings: Settings) {
    this.s = settings;
    this.kind = settings.format === 'mp4' ? h264Frames : jpegFrames;
  }

  get closed(): boolean {
    return this.closePromise !== undefined;
  }

  get stats(): RecorderStats {
    return {
      frames: this.framesAccepted,
      bytes: this.bytesAccepted,
      rejected: this.refused,
      files: this.segments,
      pendingBytes: this.pendingBytes(),
      path: this.writer?.path,
    };
  }

  write(frame: RecorderFrame | H264Frame | Uint8Array): Promise<void> {
    const put = this.put(frame);
    if (put instanceof RecorderError) return Promise.reject(put);
    return put ? Promise.resolve() : this.room();
  }

  /**
   * write() without its promise, for recordTo's per-frame path: true when the frame was queued
   * and the queue has room for more, false when it was queued and the queue is now full (wait for
   * room()), or the error it was refused with (a refusal is also a 'rejected' event).
   */
  put(frame: RecorderFrame | H264Frame | Uint8Array): boolean | RecorderError {
    if (this.closePromise) return new RecorderError('CLOSED', 'write() after close(): this recorder is finished; create a new one to record again');
    if (this.failure) return this.failure;
    const isBytes = frame instanceof Uint8Array;
    const bytes = isBytes ? frame : (frame as Partial<Record<'jpeg' | 'h264', Uint8Array>> | null)?.[this.kind.field];
    const seq = isBytes ? undefined : frame?.seq;
    const checked = this.check(bytes);
    if (checked instanceof RecorderError) return this.refuse(checked, seq);
    if (!this.hasRoom()) {
      return this.refuse(new RecorderError('QUEUE_FULL', `the write queue is full (${this.pendingBytes()} bytes in ${this.pendingFrames()} frames): await write() before writing the next frame`), seq);
    }
    const data = bytes as Uint8Array;
    const timeUs = this.timeOf(isBytes ? undefined : frame.captureTimeUs);
    let writer: FrameFileWriter;
    try {
      writer = this.writerFor(data.length, timeUs, checked.keyframe);
      writer.append(data, checked, timeUs);
    } catch (err) {
      if (err instanceof RecorderError) return this.refuse(err, seq);
      throw err;
    }
    this.firstFrame ??= checked;
    this.resync = false;
    this.framesAccepted++;
    this.bytesAccepted += data.length;
    if (this.timers.length === 0) this.startTimers();
    return this.hasRoom();
  }

  /** Resolves once the queue has room (at once if it has), rejects after a write error. */
  room(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.hasRoom() || this.closePromise) return Promise.resolve();
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const w = this.writer;
    if (w) {
      w.release?.();
      w.checkpoint();
      this.checkpointedFrames = w.frames;
      await w.drain().catch(() => undefined);
    }
    await Promise.all([...this.closingFiles]);
    if (this.failure) throw this.failure;
  }

  close(): Promise<RecordingSummary> {
    this.closePromise ??= this.finish();
    return this.closePromise;
  }

  private async finish(): Promise<RecordingSummary> {
    for (const t of this.timers) clearInterval(t);
    if (this.writer) this.retire(this.writer);
    this.writer = undefined;
    while (this.closingFiles.size > 0) await Promise.all([...this.closingFiles]);
    this.wake();
    const files = [...this.summaries].sort((a, b) => a.segment - b.segment);
    return {
      files,
      frames: files.reduce((n, f) => n + f.frames, 0),
      rejected: this.refused,
      ...(this.failure ? { error: this.failure } : {}),
    };
  }

  /** The frame's info if it can be recorded, else why not. */
  private check(bytes: unknown): FrameInfo | RecorderError {
    if (!(bytes instanceof Uint8Array)) return new RecorderError('INVALID_FRAME', `a frame must be ${this.kind.expects}`);
    if (bytes.length > this.s.maxFrameBytes) {
      return new RecorderError('TOO_LARGE', `a ${bytes.length}-byte frame is over maxFrameBytes (${this.s.maxFrameBytes}); raise the option if such frames are expected`);
    }
    const info = this.kind.check(bytes, this.firstFrame);
    if (info instanceof RecorderError || info.keyframe || !this.resync) return info;
    return new RecorderError('NOT_KEYFRAME', 'this access unit depends on pictures that were not recorded (the start, or a refused frame): recording resumes at the next keyframe');
  }

  private refuse(error: RecorderError, seq: number | undefined): RecorderError {
    this.refused++;
    this.resync = true;
    this.emit(seq === undefined ? { type: 'rejected', error } : { type: 'rejected', error, seq });
    return error;
  }

  /** Capture times when the first frame has one (and then for every frame), arrival times otherwise. */
  private timeOf(captureTimeUs: number | undefined): number | undefined {
    const hasCapture = typeof captureTimeUs === 'number' && Number.isFinite(captureTimeUs) && captureTimeUs > 0;
    this.timeSource ??= hasCapture ? 'capture' : 'arrival';
    if (this.timeSource === 'arrival') return Math.round(performance.now() * 1000);
    return hasCapture ? captureTimeUs : undefined;
  }

  /**
   * The writer for the next frame, rolling over to a new segment first if this frame starts one
   * (only a keyframe can: an H.264 file starts at one).
   */
  private writerFor(frameBytes: number, timeUs: number | undefined, keyframe: boolean): FrameFileWriter {
    const current = this.writer;
    if (current && current.frames > 0 && keyframe && this.segmentEnds(current, frameBytes, timeUs)) {
      this.retire(current);
      this.writer = this.openWriter(timeUs);
      this.emit({ type: 'segment', previous: current.path, path: this.writer.path, segment: this.segments });
    }
    this.writer ??= this.openWriter(timeUs);
    return this.writer;
  }

  private segmentEnds(w: FrameFileWriter, frameBytes: number, timeUs: number | undefined): boolean {
    const seg = this.s.segment;
    if (!seg) return false;
    if (seg.maxBytes !== undefined && w.sizeWith(frameBytes) > seg.maxBytes) return true;
    const first = w.firstTimeUs;
    return seg.durationMs !== undefined && timeUs !== undefined && first !== undefined && timeUs - first >= seg.durationMs * 1000;
  }

  private openWriter(timeUs: number | undefined): FrameFileWriter {
    const segment = ++this.segments;
    const named = this.s.namesFromCaptureTime && this.timeSource === 'capture' && timeUs !== undefined ? new Date(timeUs / 1000) : new Date();
    const path = expandFileName(this.s.pattern, segment, named, this.s.segment !== undefined);
    let writer: FrameFileWriter | undefined;
    const options: FileWriterOptions = {
      path,
      segment,
      fs: this.s.fs,
      fsync: this.s.fsync,
      frameRate: this.s.frameRate,
      riffThreshold: this.s.riffThreshold,
      // Held frames stay well inside the queue's bounds, so holding them never makes callers wait.
      hold: this.s.writeDelayMs > 0 ? { ms: this.s.writeDelayMs, bytes: this.s.maxQueueBytes / 2, frames: this.s.maxQueueFrames / 2 } : undefined,
      hooks: {
        onOpened: () => this.emit({ type: 'opened', path, segment }),
        onProgress: () => this.wake(),
        onFailure: (error) => this.failed(writer!, error),
      },
    };
    writer = this.s.format === 'avi' ? new AviWriter(options) : this.s.format === 'mp4' ? new Mp4Writer(options) : new MjpegWriter(options);
    this.live.add(writer);
    return writer;
  }

  /** Close `w` in the background; its summary and 'closed' event come when it is done. */
  private retire(w: FrameFileWriter): void {
    if (this.retired.has(w)) return;
    this.retired.add(w);
    const done = w.close().then((summary) => {
      this.live.delete(w);
      if (summary.frames > 0 || summary.error) {
        this.summaries.push(summary);
        this.emit({ type: 'closed', file: summary });
      }
      this.wake();
    });
    this.closingFiles.add(done);
    void done.finally(() => this.closingFiles.delete(done));
  }

  /** A write error: the recording ends; every file is closed with what reached the disk. */
  private failed(w: FrameFileWriter, error: RecorderError): void {
    if (this.failure) return;
    this.failure = error;
    for (const t of this.timers) clearInterval(t);
    this.emit({ type: 'error', error });
    // The failed writer is closing itself (as the current file, or as a segment being closed);
    // the current file, whichever it is, is finished too.
    this.retire(w);
    if (this.writer) this.retire(this.writer);
    this.writer = undefined;
    this.wake();
  }

  private pendingBytes(): number {
    let n = 0;
    for (const w of this.live) n += w.pendingBytes;
    return n;
  }

  private pendingFrames(): number {
    let n = 0;
    for (const w of this.live) n += w.pendingFrames;
    return n;
  }

  /** Called twice per frame: one pass over the writers (a profile showed four costing 25 µs a frame). */
  private hasRoom(): boolean {
    let bytes = 0;
    let frames = 0;
    for (const w of this.live) {
      bytes += w.pendingBytes;
      frames += w.pendingFrames;
    }
    return bytes < this.s.maxQueueBytes && frames < this.s.maxQueueFrames;
  }

  /** Let waiting writers go on (or fail them after a write error). */
  private wake(): void {
    if (this.roomWaiters.length === 0) return;
    if (this.failure) {
      for (const w of this.roomWaiters.splice(0)) w.reject(this.failure);
    } else if (this.hasRoom() || this.closePromise) {
      for (const w of this.roomWaiters.splice(0)) w.resolve();
    }
  }

  private startTimers(): void {
    if (this.s.checkpointIntervalMs > 0) {
      this.timers.push(setInterval(() => {
        const w = this.writer;
        if (w && w.frames !== this.checkpointedFrames) {
          w.checkpoint();
          this.checkpointedFrames = w.frames;
        }
      }, this.s.checkpointIntervalMs).unref());
    }
    if (this.s.progressIntervalMs > 0 && this.s.onEvent) {
      this.progressAt = performance.now();
      this.timers.push(setInterval(() => this.progress(), this.s.progressIntervalMs).unref());
    }
  }

  private progress(): void {
    const now = performance.now();
    const fps = ((this.framesAccepted - this.progressFrames) * 1000) / Math.max(1, now - this.progressAt);
    this.progressFrames = this.framesAccepted;
    this.progressAt = now;
    const path = this.writer?.path;
    if (path === undefined) return;
    this.emit({ type: 'progress', path, frames: this.framesAccepted, bytes: this.bytesAccepted, rejected: this.refused, fps });
  }

  private emit(event: RecorderEvent): void {
    this.s.onEvent?.(event);
  }
}
