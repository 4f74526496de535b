/**
 * MJPEG AVI muxer: RIFF 'AVI ' with hdrl and movi, idx1 at close, OpenDML AVIX RIFFs with ix00
 * standard indexes and an indx super index past the RIFF threshold, and a header rewritten at
 * every checkpoint so that a killed process leaves a playable file.
 *
 * Layout (positions remembered by name in avi-chunks.ts: riffSize, moviSize, movi):
 *   RIFF 'AVI ' [LIST hdrl: avih, LIST strl (strh, strf, indx|JUNK), LIST odml (dmlh)]
 *               LIST movi [00dc...] [ix00 when OpenDML]   idx1
 *   RIFF 'AVIX' LIST movi [00dc...] ix00                  (OpenDML only, repeated)
 */
import type { JpegInfo } from '@edgecam/protocol';
import {
  AVIX_HEADER_BYTES,
  FIRST_MOVI_POS,
  HEADER_BYTES,
  PAD,
  SUPER_INDEX_ENTRIES,
  type SuperIndexEntry,
  avixHeader,
  buildFirstRiffHeader,
  frameChunkHeader,
  legacyIndex,
  legacyIndexBytes,
  standardIndex,
  standardIndexBytes,
} from './avi-chunks.js';
import { RecorderError, errnoOf } from './errors.js';
import { type RecorderFileHandle, writeAll } from './file-system.js';
import type { FileSummary } from './file-writer.js';
import { QueuedFileWriter } from './queued-file-writer.js';

/** One RIFF's frames, kept until the RIFF is closed and the next one is safely on disk. */
interface RiffState {
  /** 0 for RIFF 'AVI ', 1.. for the AVIX RIFFs. */
  readonly ordinal: number;
  /** Absolute offset of 'RIFF'. */
  readonly start: number;
  /** Absolute offset of this RIFF's 'movi' fourcc: idx1 offsets and the ix00 base count from it. */
  readonly movi: number;
  /** Queue op that wrote this RIFF's header. */
  readonly headerSeq: number;
  chunkStarts: number[];
  sizes: number[];
  /** Queue op of each frame, to tell after a write error which frames reached the disk. */
  seqs: number[];
}

/** State of the RIFFs already closed (their structures are final on disk). */
interface ClosedState {
  superIndex: SuperIndexEntry[];
  frames: number;
  /** Set once the first RIFF is closed. */
  first: { riffSize: number; moviSize: number; frames: number } | undefined;
}

export class AviWriter extends QueuedFileWriter {
  /** The current RIFF last; the previous one too until the current one's header is written. */
  private riffs: RiffState[] = [];
  private closed: ClosedState = { superIndex: [], frames: 0, first: undefined };
  private totalFrames = 0;
  private pos = 0;
  private width = 0;
  private height = 0;
  private largestFrame = 0;
  private hasIdx1 = false;

  get frames(): number {
    return this.totalFrames;
  }

  private get current(): RiffState {
    return this.riffs[this.riffs.length - 1]!;
  }

  sizeWith(jpegBytes: number): number {
    const chunkBytes = 8 + jpegBytes + (jpegBytes & 1);
    if (this.riffs.length === 0) return HEADER_BYTES + chunkBytes + legacyIndexBytes(1);
    const r = this.current;
    const n = r.chunkStarts.length;
    if (n > 0 && this.riffBytesWith(r, chunkBytes) > this.options.riffThreshold) {
      // The frame starts a new RIFF: this one gets its ix00 (and idx1 if first), then an AVIX.
      const closing = standardIndexBytes(n) + (r.ordinal === 0 ? legacyIndexBytes(n) : 0);
      return this.pos + closing + AVIX_HEADER_BYTES + chunkBytes + standardIndexBytes(1);
    }
    // A single-RIFF file ends with idx1; an OpenDML one with this RIFF's ix00.
    return this.pos + chunkBytes + (r.ordinal === 0 ? legacyIndexBytes(n + 1) : standardIndexBytes(n + 1));
  }

  append(jpeg: Uint8Array, info: JpegInfo, timeUs: number | undefined): void {
    if (this.riffs.length === 0) this.start(info);
    const size = jpeg.length;
    const chunkBytes = 8 + size + (size & 1);
    if (this.current.chunkStarts.length > 0 && this.riffBytesWith(this.current, chunkBytes) > this.options.riffThreshold) {
      if (this.current.ordinal + 1 >= SUPER_INDEX_ENTRIES) {
        throw new RecorderError(
          'TOO_LARGE',
          `${this.path} reached ${SUPER_INDEX_ENTRIES} RIFFs, all its OpenDML index holds: record in segments (segment.maxBytes or segment.durationMs)`,
        );
      }
      this.rollover();
    }
    const r = this.current;
    const header = frameChunkHeader(size);
    const seq = this.queue.write(size & 1 ? [header, jpeg, PAD] : [header, jpeg], this.pos, size);
    r.chunkStarts.push(this.pos);
    r.sizes.push(size);
    r.seqs.push(seq);
    this.pos += chunkBytes;
    this.totalFrames++;
    if (size > this.largestFrame) this.largestFrame = size;
    if (timeUs !== undefined) this.meter.add(timeUs);
  }

  checkpoint(): void {
    if (this.riffs.length === 0 || this.failure || this.isClosing) return;
    // Everything queued before these writes is what they describe, so once they land the file
    // on disk is complete up to here, whatever happens to the process afterwards.
    this.queue.write([this.header()], 0);
    const r = this.current;
    if (r.ordinal > 0) this.queue.write([avixHeader(this.pos - r.start - 8, this.pos - r.movi)], r.start);
    if (this.options.fsync) this.queue.sync();
  }

  protected async finish(): Promise<FileSummary> {
    if (this.riffs.length === 0) return this.summary(0); // no frame, no file
    if (!this.failure) this.closeRiff(this.current, true);
    await this.settle();
    return this.summary(this.pos);
  }

  private start(info: JpegInfo): void {
    this.width = info.width;
    this.height = info.height;
    this.pos = HEADER_BYTES;
    const headerSeq = this.queue.write([this.header()], 0);
    this.riffs.push({ ordinal: 0, start: 0, movi: FIRST_MOVI_POS, headerSeq, chunkStarts: [], sizes: [], seqs: [] });
  }

  /** Bytes RIFF r would span with one more chunk and the indexes that close it. */
  private riffBytesWith(r: RiffState, chunkBytes: number): number {
    const n = r.chunkStarts.length + 1;
    const indexes = standardIndexBytes(n) + (r.ordinal === 0 ? legacyIndexBytes(n) : 0);
    return this.pos + chunkBytes - r.start + indexes;
  }

  /** Close the current RIFF and open an AVIX one after it. */
  private rollover(): void {
    this.closeRiff(this.current, false);
    const start = this.pos;
    const headerSeq = this.queue.write([avixHeader(4 + 12, 4)], start); // empty: 'AVIX' + empty movi LIST
    this.riffs.push({ ordinal: this.current.ordinal + 1, start, movi: start + 20, headerSeq, chunkStarts: [], sizes: [], seqs: [] });
    this.pos += AVIX_HEADER_BYTES;
  }

  /**
   * Queue what finishes RIFF r: in OpenDML (several RIFFs, or about to be) an ix00 at the end of
   * its movi and its entry in the super index; idx1 after the first RIFF's movi; then its sizes.
   */
  private closeRiff(r: RiffState, final: boolean): void {
    // A single-RIFF file closes like AVI 1.0 (idx1 only, as ffmpeg does); otherwise every RIFF
    // gets its ix00 so OpenDML readers (VLC) can seek.
    for (const [position, bytes] of this.closingWrites(r, !final || r.ordinal > 0)) {
      this.queue.write([bytes], position);
    }
  }

  /**
   * The writes (position, bytes) that finish RIFF r after its last chunk at this.pos, and the
   * state updates they imply. `openDml`: write an ix00 and a super index entry for it.
   */
  private closingWrites(r: RiffState, openDml: boolean): Array<[number, Buffer]> {
    const writes: Array<[number, Buffer]> = [];
    const n = r.chunkStarts.length;
    if (openDml) {
      const ix = standardIndex(r.movi, r.chunkStarts, r.sizes);
      writes.push([this.pos, ix]);
      this.closed.superIndex.push({ offset: this.pos, size: ix.length, frames: n });
      this.pos += ix.length;
    }
    const moviSize = this.pos - r.movi;
    if (r.ordinal === 0) {
      const idx1 = legacyIndex(r.movi, r.chunkStarts, r.sizes);
      writes.push([this.pos, idx1]);
      this.pos += idx1.length;
      this.hasIdx1 = true;
      this.closed.first = { riffSize: this.pos - 8, moviSize, frames: n };
    } else {
      writes.push([r.start, avixHeader(this.pos - r.start - 8, moviSize)]);
    }
    this.closed.frames += n;
    writes.push([0, this.header()]);
    return writes;
  }

  /** The first RIFF's header as of now (what is queued). */
  private header(): Buffer {
    const first = this.closed.first;
    const r0 = this.riffs[0];
    return buildFirstRiffHeader({
      width: this.width,
      height: this.height,
      rate: this.rate(),
      firstRiffFrames: first ? first.frames : (r0?.chunkStarts.length ?? 0),
      totalFrames: this.totalFrames,
      largestFrame: this.largestFrame,
      hasIdx1: this.hasIdx1,
      riffSize: first ? first.riffSize : this.pos - 8,
      moviSize: first ? first.moviSize : this.pos - FIRST_MOVI_POS,
      superIndex: this.closed.superIndex,
    });
  }

  /** Forget the previous RIFF's frames once the current RIFF's header is on disk. */
  protected override written(completedSeq: number): void {
    while (this.riffs.length > 1 && this.riffs[1]!.headerSeq <= completedSeq) this.riffs.shift();
  }

  /**
   * After a write error: rewind the state to what reached the disk (every op before `seq`), cut the
   * file after the last complete frame, and finish it there. If the disk is full, drop frames from
   * the end until the index fits; if even that fails, patch the sizes without an index (ffmpeg
   * still plays it, and repair() can add one).
   */
  protected async recover(seq: number): Promise<void> {
    const h = this.queue.handle;
    const alive = this.riffs.filter((r) => r.headerSeq < seq);
    const r = alive[alive.length - 1];
    if (!h || !r) {
      // Not even the header made it: remove what there is rather than leave a broken file.
      this.totalFrames = 0;
      this.pos = 0;
      await h?.close().catch(() => undefined);
      if (h) await this.removeFile();
      return;
    }
    let keep = 0;
    while (keep < r.seqs.length && r.seqs[keep]! < seq) keep++;
    // RIFFs before r are final on disk; forget whatever the failed ops said about r.
    const closedBefore: ClosedState = {
      superIndex: this.closed.superIndex.slice(0, r.ordinal),
      frames: this.closed.superIndex.slice(0, r.ordinal).reduce((s, e) => s + e.frames, 0),
      first: r.ordinal > 0 ? this.closed.first : undefined,
    };
    this.riffs = [r];
    for (let attempt = 0; ; attempt++) {
      this.truncateTo(r, keep, closedBefore);
      const cut = this.pos;
      try {
        await h.truncate(cut).catch(() => undefined); // a device or pipe cannot be truncated
        for (const [position, bytes] of this.closingWrites(r, r.ordinal > 0)) await writeAll(h, bytes, position);
        if (this.options.fsync) await h.datasync();
        break;
      } catch (err) {
        const needed = this.pos - cut;
        if (errnoOf(err) === 'ENOSPC' && keep > 0 && attempt < 3) {
          keep = framesToKeep(r, keep, 2 * needed + 4096); // free room for the index, with a margin
          continue;
        }
        await this.patchWithoutIndex(h, r, keep, closedBefore);
        break;
      }
    }
    await h.close().catch(() => undefined);
    // Not one frame survived: a file with nothing in it is not worth leaving behind.
    if (this.totalFrames === 0) await this.removeFile();
  }

  /** Reset the state to RIFF r holding its first `keep` frames and nothing after them. */
  private truncateTo(r: RiffState, keep: number, closedBefore: ClosedState): void {
    r.chunkStarts.length = keep;
    r.sizes.length = keep;
    r.seqs.length = keep;
    this.closed = { superIndex: [...closedBefore.superIndex], frames: closedBefore.frames, first: closedBefore.first };
    this.hasIdx1 = r.ordinal > 0; // the first RIFF's idx1 is on disk only if r is a later RIFF
    this.totalFrames = closedBefore.frames + keep;
    this.pos = keep > 0 ? r.chunkStarts[keep - 1]! + 8 + r.sizes[keep - 1]! + (r.sizes[keep - 1]! & 1) : r.movi + 4;
  }

  /** Last resort: sizes and counts only, no new bytes (they need no free space). */
  private async patchWithoutIndex(h: RecorderFileHandle, r: RiffState, keep: number, closedBefore: ClosedState): Promise<void> {
    try {
      this.truncateTo(r, keep, closedBefore);
      await h.truncate(this.pos).catch(() => undefined);
      if (r.ordinal > 0) await writeAll(h, avixHeader(this.pos - r.start - 8, this.pos - r.movi), r.start);
      await writeAll(h, this.header(), 0);
    } catch {
      // Nothing more can be done; the checkpointed header on disk still describes a valid prefix.
    }
  }

  private summary(bytes: number): FileSummary {
    const rate = this.rate();
    return {
      path: this.path,
      format: 'avi',
      segment: this.options.segment,
      frames: this.totalFrames,
      bytes,
      width: this.width,
      height: this.height,
      frameRate: rate,
      durationSeconds: (this.totalFrames * rate.den) / rate.num,
      riffs: this.riffs.length === 0 ? 0 : this.current.ordinal + 1,
      ...(this.failure ? { error: this.failure } : {}),
    };
  }
}

/** How many of RIFF r's first `keep` frames remain after dropping at least `bytes` from the end. */
function framesToKeep(r: RiffState, keep: number, bytes: number): number {
  let freed = 0;
  while (keep > 0 && freed < bytes) {
    keep--;
    freed += 8 + r.sizes[keep]! + (r.sizes[keep]! & 1);
  }
  return keep;
}
