/**
 * Fragmented MP4 files: the init segment at the first frame, then a moof+mdat fragment about
 * every second (mp4-muxer.ts), and at close the mfra seek index.
 *
 * Crash safety without rewriting anything: each fragment is appended with its moof typed 'free',
 * so that until it is whole on disk every player skips it as padding, and only then (after a
 * datasync when fsync is on) are those 4 bytes patched to 'moof'. A file cut at any byte is the
 * fragments before the cut, whole, and a skippable tail; no header is ever stale.
 */
import { errnoOf } from './errors.js';
import type { FileSummary, FileWriterOptions } from './file-writer.js';
import { writeAll } from './file-system.js';
import type { FrameInfo } from './frame-format.js';
import type { H264Unit } from './h264-access-unit.js';
import { type RandomAccessPoint, TIMESCALE, fragmentHeaderBytes, mfra } from './mp4-boxes.js';
import { type Mp4Chunk, Mp4Muxer } from './mp4-muxer.js';
import { QueuedFileWriter } from './queued-file-writer.js';

const MOOF = Buffer.from('moof', 'latin1');
const FREE = 'free';
/** mfra with one entry, and each more: what sizeWith() adds for the index. */
const MFRA_BYTES = 8 + 24 + 16;
const MFRA_ENTRY_BYTES = 19;
/** A frame without a capture time follows the one before it by this (a 30 fps frame time). */
const ESTIMATE_INTERVAL_US = 33_333;

/** A fragment queued to the file. */
interface Queued {
  readonly offset: number;
  readonly bytes: number;
  readonly frames: number;
  readonly point: RandomAccessPoint | undefined;
  /** The queue op that turns it from padding into a fragment. */
  readonly patchSeq: number;
  readonly end: number;
}

export class Mp4Writer extends QueuedFileWriter {
  private readonly muxer: Mp4Muxer;
  private pos = 0;
  private initSeq = -1;
  private initBytes = 0;
  private width = 0;
  private height = 0;
  private lastTimeUs: number | undefined;
  /** Fragments queued and not yet known to be on disk; then counted in `durable`. */
  private queued: Queued[] = [];
  private durable = { frames: 0, end: 0, fragments: 0, points: [] as RandomAccessPoint[] };
  private queuedFrames = 0;
  private fragments = 0;

  constructor(options: FileWriterOptions) {
    super(options);
    const rate = options.frameRate;
    this.muxer = new Mp4Muxer(rate ? { fixedDuration: Math.round((TIMESCALE * rate.den) / rate.num) } : {});
  }

  get frames(): number {
    return this.muxer.frames;
  }

  override get pendingBytes(): number {
    return this.queue.pendingPayload + this.muxer.pendingBytes;
  }

  override get pendingFrames(): number {
    return this.queue.pendingFrames + this.muxer.pendingFrames;
  }

  sizeWith(frameBytes: number): number {
    const waiting = this.muxer.pendingFrames + 1;
    return this.pos + this.muxer.pendingBytes + frameBytes + 4 * waiting + fragmentHeaderBytes(waiting)
      + MFRA_BYTES + MFRA_ENTRY_BYTES * (this.fragments + 1) + (this.pos === 0 ? 1024 : 0);
  }

  append(frame: Uint8Array, info: FrameInfo, timeUs: number | undefined): void {
    const unit = info as H264Unit;
    if (this.pos === 0) {
      this.width = unit.width;
      this.height = unit.height;
    }
    // A frame without a capture time follows the last one by a frame time.
    const t = timeUs ?? (this.lastTimeUs === undefined ? 0 : this.lastTimeUs + ESTIMATE_INTERVAL_US);
    this.lastTimeUs = t;
    if (timeUs !== undefined) this.meter.add(timeUs);
    for (const chunk of this.muxer.push(unit, t)) this.emit(chunk);
  }

  /** flush(): the fragment being gathered goes out now, but for its newest picture (its duration is not known yet). */
  release(): void {
    if (this.pos === 0 || this.failure || this.isClosing) return;
    for (const chunk of this.muxer.cutWaiting()) this.emit(chunk);
  }

  checkpoint(): void {
    // Nothing to patch: each fragment patched itself. Make the last patches durable.
    if (this.pos > 0 && this.options.fsync && !this.failure && !this.isClosing) this.queue.sync();
  }

  protected async finish(): Promise<FileSummary> {
    if (this.pos === 0) return this.summary(); // no frame, no file
    if (!this.failure) {
      for (const chunk of this.muxer.end()) this.emit(chunk);
      const index = mfra([...this.durable.points, ...this.queued.flatMap((q) => (q.point ? [q.point] : []))]);
      this.queue.write([index], this.pos);
      this.pos += index.length;
    }
    await this.settle();
    return this.summary();
  }

  private emit(chunk: Mp4Chunk): void {
    if (chunk.kind === 'init') {
      this.initSeq = this.queue.write(chunk.buffers, 0);
      this.pos = this.initBytes = chunk.bytes;
      return;
    }
    const offset = this.pos;
    const header = chunk.buffers[0] as Buffer;
    header.write(FREE, 4, 'latin1'); // padding until its data is on disk
    this.queue.write(chunk.buffers, offset, chunk.bytes - header.length, chunk.frames);
    if (this.options.fsync) this.queue.sync();
    const patchSeq = this.queue.write([MOOF], offset + 4);
    this.pos += chunk.bytes;
    this.queuedFrames += chunk.frames;
    this.fragments++;
    this.queued.push({
      offset,
      bytes: chunk.bytes,
      frames: chunk.frames,
      point: chunk.keyframe ? { time: chunk.decodeTime, moofOffset: offset } : undefined,
      patchSeq,
      end: this.pos,
    });
  }

  /** Fragments whose patch is written are whole on disk: only they survive a write error. */
  protected override written(seq: number): void {
    while (this.queued.length > 0 && this.queued[0]!.patchSeq <= seq) {
      const q = this.queued.shift()!;
      this.durable.frames += q.frames;
      this.durable.end = q.end;
      this.durable.fragments++;
      if (q.point) this.durable.points.push(q.point);
    }
  }

  /**
   * After a write error: keep the fragments that were patched, cut the rest off, and add the seek
   * index if there is room (without it the file plays the same; only seeking is slower).
   */
  protected async recover(seq: number): Promise<void> {
    const h = this.queue.handle;
    this.written(seq - 1);
    this.queued = [];
    if (!h || this.initSeq >= seq || this.initSeq < 0) {
      // Not even the init segment made it: remove what there is rather than leave a broken file.
      this.durable = { frames: 0, end: 0, fragments: 0, points: [] };
      await h?.close().catch(() => undefined);
      if (h) await this.removeFile();
      return;
    }
    const end = Math.max(this.durable.end, this.initBytes);
    this.pos = end;
    try {
      await h.truncate(end).catch(() => undefined); // a device or pipe cannot be truncated
      const index = mfra(this.durable.points);
      if (this.durable.frames > 0) {
        await writeAll(h, index, end);
        this.pos = end + index.length;
      }
      if (this.options.fsync) await h.datasync();
    } catch (err) {
      // ENOSPC for the index: the file is whole without it. Anything else: nothing more to do.
      if (errnoOf(err) === 'ENOSPC') await h.truncate(end).catch(() => undefined);
    }
    await h.close().catch(() => undefined);
    if (this.durable.frames === 0) await this.removeFile();
  }

  private summary(): FileSummary {
    const failed = this.failure !== undefined;
    const frames = failed ? this.durable.frames : this.queuedFrames;
    const rate = this.rate();
    const seconds = failed ? undefined : this.muxer.endTicks / TIMESCALE;
    return {
      path: this.path,
      format: 'mp4',
      segment: this.options.segment,
      frames,
      bytes: frames === 0 ? 0 : this.pos,
      width: this.width,
      height: this.height,
      frameRate: rate,
      durationSeconds: seconds ?? (frames * rate.den) / rate.num,
      riffs: 0,
      fragments: failed ? this.durable.fragments : this.fragments,
      ...(this.failure ? { error: this.failure } : {}),
    };
  }
}
