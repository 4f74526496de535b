/**
 * Raw MJPEG: the JPEGs back to back, nothing else. ffmpeg reads it with `-f mjpeg` (it has no
 * rate: pass `-framerate`). Written sequentially, so it also works on a pipe or FIFO.
 */
import type { JpegInfo } from '@edgecam/protocol';
import type { FileSummary } from './file-writer.js';
import { QueuedFileWriter } from './queued-file-writer.js';

export class MjpegWriter extends QueuedFileWriter {
  private queuedFrames = 0;
  private queuedEnd = 0;
  /** Frames (and bytes) known to be written; only these survive a write error. */
  private writtenFrames = 0;
  private writtenEnd = 0;
  /** (seq, end) of queued frames not yet written: bounded by the queue's bound. */
  private inFlight: Array<{ seq: number; end: number }> = [];
  private width = 0;
  private height = 0;

  get frames(): number {
    return this.queuedFrames;
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
    if (this.queuedFrames > 0 && this.options.fsync && !this.failure && !this.isClosing) this.queue.sync();
  }

  protected override written(seq: number): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.seq <= seq) {
      this.writtenEnd = this.inFlight.shift()!.end;
      this.writtenFrames++;
    }
  }

  protected async finish(): Promise<FileSummary> {
    await this.settle();
    const rate = this.rate();
    const frames = this.failure ? this.writtenFrames : this.queuedFrames;
    return {
      path: this.path,
      format: 'mjpeg',
      segment: this.options.segment,
      frames,
      bytes: this.failure ? this.writtenEnd : this.queuedEnd,
      width: this.width,
      height: this.height,
      frameRate: rate,
      durationSeconds: (frames * rate.den) / rate.num,
      riffs: 0,
      ...(this.failure ? { error: this.failure } : {}),
    };
  }

  protected async recover(): Promise<void> {
    const h = this.queue.handle;
    if (!h) return;
    // Cut a partly written JPEG off the end (not possible on a pipe, where it is already sent).
    await h.truncate(this.writtenEnd).catch(() => undefined);
    await h.close().catch(() => undefined);
    if (this.writtenFrames === 0) await this.removeFile();
  }
}
