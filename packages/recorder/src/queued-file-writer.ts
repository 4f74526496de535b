/**
 * What the AVI, raw MJPEG and MP4 writers share: one WriteQueue to the file, a rate meter, the
 * close-once promise, and the write-error path (a coded error, then a recovery that leaves on
 * disk a valid file of what reached it). Subclasses say what a frame and a checkpoint queue, how
 * the file is finished, and how it is cut back after a write error.
 */
import { RecorderError, errnoOf } from './errors.js';
import type { FileSummary, FileWriterOptions, FrameFileWriter } from './file-writer.js';
import type { FrameInfo } from './frame-format.js';
import { DEFAULT_FRAME_RATE, type FrameRate, RateMeter } from './frame-rate.js';
import { type QueueFailure, WriteQueue } from './write-queue.js';

export abstract class QueuedFileWriter implements FrameFileWriter {
  readonly path: string;
  protected readonly options: FileWriterOptions;
  protected readonly queue: WriteQueue;
  protected readonly meter = new RateMeter();
  failure: RecorderError | undefined;
  private closing: Promise<FileSummary> | undefined;
  private recovery: Promise<void> | undefined;

  constructor(options: FileWriterOptions) {
    this.path = options.path;
    this.options = options;
    this.queue = new WriteQueue(() => options.fs.open(options.path), {
      onOpened: () => options.hooks.onOpened(),
      onProgress: (seq) => {
        this.written(seq);
        options.hooks.onProgress();
      },
      onFailure: (f) => this.fail(f),
    }, options.hold);
  }

  abstract readonly frames: number;
  abstract sizeWith(frameBytes: number): number;
  abstract append(frame: Uint8Array, info: FrameInfo, timeUs: number | undefined): void;
  abstract checkpoint(): void;

  get pendingBytes(): number {
    return this.queue.pendingPayload;
  }

  get pendingFrames(): number {
    return this.queue.pendingFrames;
  }

  get firstTimeUs(): number | undefined {
    return this.meter.firstTimeUs;
  }

  drain(): Promise<void> {
    return this.queue.idle();
  }

  close(): Promise<FileSummary> {
    this.closing ??= this.finish();
    return this.closing;
  }

  /** True once close() was called: checkpoints stop (the closing writes describe the file). */
  protected get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** The caller's fixed rate, else the one measured from the frames' timestamps. */
  protected rate(): FrameRate {
    return this.options.frameRate ?? this.meter.rate(DEFAULT_FRAME_RATE);
  }

  /** Queue ops up to and including `seq` are written. */
  protected written(_seq: number): void {}

  /** Queue the closing writes, settle(), and describe the file. */
  protected abstract finish(): Promise<FileSummary>;

  /**
   * After a write error: make the file on disk valid with what reached it (every op before `seq`),
   * then close the handle (or remove a file that kept no frame).
   */
  protected abstract recover(seq: number): Promise<void>;

  /**
   * Wait until everything queued is written (with a datasync when asked) and the handle closed;
   * after a write error, until the recovery has finished the file instead.
   */
  protected async settle(): Promise<void> {
    if (!this.failure && this.frames > 0) {
      if (this.options.fsync) this.queue.sync();
      try {
        await this.queue.idle();
      } catch {
        // fail() started the recovery; it closes the handle.
      }
    }
    if (this.recovery) await this.recovery;
    else await this.queue.handle?.close().catch(() => undefined);
  }

  /** Delete the file: nothing in it is worth leaving behind. */
  protected async removeFile(): Promise<void> {
    await this.options.fs.remove?.(this.path).catch(() => undefined);
  }

  private fail(f: QueueFailure): void {
    const errno = errnoOf(f.error);
    const opened = this.queue.handle !== undefined;
    this.failure = new RecorderError(
      'WRITE_FAILED',
      `${opened ? 'writing' : 'opening'} ${this.path} failed (${errno ?? String(f.error)}); the file was closed with the frames written before the error`,
      { cause: f.error, ...(errno === undefined ? {} : { errno }) },
    );
    this.recovery = this.recover(f.seq);
    this.options.hooks.onFailure(this.failure);
  }
}
