/**
 * Raw MJPEG: the JPEGs back to back, nothing else. ffmpeg reads it with `-f mjpeg` (it has no
 * rate: pass `-framerate`). Written sequentially, so it also works on a pipe or FIFO.
 */
import type { JpegInfo } from '@edgecam/protocol';
import { RecorderError, errnoOf } from './errors.js';
import type { FileSummary, FileWriterOptions, FrameFileWriter } from './file-writer.js';
import { DEFAULT_FRAME_RATE, RateMeter } from './frame-rate.js';
import { type QueueFailure, WriteQueue } from './write-queue.js';

export class MjpegWriter implements FrameFileWriter {
  readonly path: string;
  private readonly options: FileWriterOptions;
  private readonly queue: WriteQueue;
  private readonly meter = new RateMeter();
  private queuedFrames = 0;
  private queuedEnd = 0;
  /** Frames (and bytes) known to be written; only these survive a write error. */
  private writtenFrames = 0;
  private writtenEnd = 0;
  /** (seq, end) of queued frames not yet written: bounded by the queue's bound. */
  private inFlight: Array<{ seq: number; end: number }> = [];
  private width = 0;
  private height = 0;
  private closing: Promise<FileSummary> | undefined;
  private recovery: Promise<void> | undefined;
  failure: RecorderError | undefined;

  constructor(options: FileWriterOptions) {
    this.path = options.path;
    this.options = options;
    this.queue = new WriteQueue(() => options.fs.open(options.path), {
      onOpened: () => options.hooks.onOpened(),
      onProgress: (seq) => {
        while (this.inFlight.length > 0 && this.inFlight[0]!.seq <= seq) {
          this.writtenEnd = this.inFlight.shift()!.end;
          this.writtenFrames++;
        }
        options.hooks.onProgress();
      },
      onFailure: (f) => this.fail(f),
    });
  }

  get frames(): number {
    return this.queuedFrames;
  }

  get pendingBytes(): number {
    return this.queue.pendingPayload;
  }

  get pendingFrames(): number {
    return this.queue.pendingFrames;
  }

  get firstTimeUs(): number | undefined {
    return this.meter.firstTimeUs;
  }

  sizeWith(jpegBytes: number): number {
    return this.queuedEnd + jpegBytes;
  }

  append(jpeg: Uint8Array, info: JpegInfo, timeUs: number | undefined): void {
    if (this.queuedFrames === 0) {
      this.width = info.width;
      this.height = info.height;
    }
    const seq = this.queue.write([jpeg], undefined, jpeg.length);
    this.queuedEnd += jpeg.length;
    this.queuedFrames++;
    this.inFlight.push({ seq, end: this.queuedEnd });
    if (timeUs !== undefined) this.meter.add(timeUs);
  }

  checkpoint(): void {
    // Nothing to patch: every complete JPEG already plays. Only make it durable.
    if (this.queuedFrames > 0 && this.options.fsync && !this.failure && !this.closing) this.queue.sync();
  }

  drain(): Promise<void> {
    return this.queue.idle();
  }

  close(): Promise<FileSummary> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<FileSummary> {
    if (this.queuedFrames > 0 && !this.failure) {
      if (this.options.fsync) this.queue.sync();
      try {
        await this.queue.idle();
      } catch {
        // fail() started the recovery.
      }
    }
    if (this.recovery) await this.recovery;
    else await this.queue.handle?.close().catch(() => undefined);
    const rate = this.meter.rate(this.options.frameRate ?? DEFAULT_FRAME_RATE);
    const frames = this.failure ? this.writtenFrames : this.queuedFrames;
    return {
      path: this.path,
      format: 'mjpeg',
      segment: this.options.segment,
      frames,
      bytes: this.failure ? this.writtenEnd : this.queuedEnd,
      width: this.width,
      height: this.height,
      frameRate: this.options.frameRate ?? rate,
      durationSeconds: (frames * rate.den) / rate.num,
      riffs: 0,
      ...(this.failure ? { error: this.failure } : {}),
    };
  }

  private fail(f: QueueFailure): void {
    const errno = errnoOf(f.error);
    const opened = this.queue.handle !== undefined;
    this.failure = new RecorderError(
      'WRITE_FAILED',
      `${opened ? 'writing' : 'opening'} ${this.path} failed (${errno ?? String(f.error)}); the file was closed with the frames written before the error`,
      { cause: f.error, ...(errno === undefined ? {} : { errno }) },
    );
    this.recovery = (async () => {
      const h = this.queue.handle;
      if (!h) return;
      // Cut a partly written JPEG off the end (not possible on a pipe, where it is already sent).
      await h.truncate(this.writtenEnd).catch(() => undefined);
      await h.close().catch(() => undefined);
      if (this.writtenFrames === 0) await this.options.fs.remove?.(this.path).catch(() => undefined);
    })();
    this.options.hooks.onFailure(this.failure);
  }
}
