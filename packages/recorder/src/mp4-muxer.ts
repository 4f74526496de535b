/**
 * The fragmented-MP4 muxer as a pure, synchronous state machine: H.264 access units and their
 * capture times in, byte chunks out (the init segment once, then moof+mdat fragments). No I/O:
 * the file writer queues the chunks to disk, the live stream writes them to a socket.
 *
 * Sample times are the capture times on a 90 kHz clock from the first unit, so variable frame
 * rate stays real timing. Two ways to cut fragments:
 *   'gop'     a fragment per keyframe, or once one spans fragmentMs; a sample waits until the next
 *             one arrives so that every duration is exact (files: a crash loses at most one fragment);
 *   'sample'  a fragment per unit, out at once, its duration the previous interval (live viewers:
 *             no added latency; tfdt carries each picture's exact time).
 */
import { RecorderError } from './errors.js';
import { type H264Unit, parseAccessUnit, sameParameterSets } from './h264-access-unit.js';
import { codecString } from './h264-sps.js';
import { type FragmentSample, TIMESCALE, fragmentHeader, fragmentHeaderBytes, initSegment } from './mp4-boxes.js';

export interface Mp4MuxerOptions {
  /** How fragments are cut (see above). Default 'gop'. */
  readonly fragment?: 'gop' | 'sample';
  /** 'gop': the longest a fragment spans before it is cut without a keyframe. Default 1000. */
  readonly fragmentMs?: number;
  /** 'gop': a fragment is cut before it would pass this many bytes. Default 4 MiB. */
  readonly maxFragmentBytes?: number;
  /** Ticks per sample at a fixed rate, instead of the capture times. */
  readonly fixedDuration?: number;
}

/** Bytes for the output, in order: the init segment, or one whole fragment. */
export interface Mp4Chunk {
  readonly kind: 'init' | 'fragment';
  /** The bytes, as views: headers built here and the caller's NAL units (not copied). */
  readonly buffers: Uint8Array[];
  readonly bytes: number;
  /** Samples in the fragment (0 for init). */
  readonly frames: number;
  /** The fragment starts with a keyframe: a player can start (or seek) here. */
  readonly keyframe: boolean;
  /** The first sample's decode time and the fragment's duration, in TIMESCALE ticks. */
  readonly decodeTime: number;
  readonly duration: number;
}

interface Pending extends FragmentSample {
  readonly buffers: Uint8Array[];
  readonly decode: number;
}

/** The interval assumed before two samples give one: 1/30 s. */
const DEFAULT_DURATION = TIMESCALE / 30;
const DEFAULT_MAX_FRAGMENT_BYTES = 4 * 1024 * 1024;

export class Mp4Muxer {
  private readonly mode: 'gop' | 'sample';
  private readonly fragmentTicks: number;
  private readonly maxFragmentBytes: number;
  private readonly fixedDuration: number | undefined;
  private firstTimeUs: number | undefined;
  private lastDecode = -1;
  private lastInterval = DEFAULT_DURATION;
  private sequence = 0;
  private samples = 0;
  private pending: Pending[] = [];
  private pendingData = 0;
  /** The parameter sets of the init segment. */
  private stream: H264Unit | undefined;

  constructor(options: Mp4MuxerOptions = {}) {
    this.mode = options.fragment ?? 'gop';
    this.fragmentTicks = Math.round(((options.fragmentMs ?? 1000) * TIMESCALE) / 1000);
    this.maxFragmentBytes = options.maxFragmentBytes ?? DEFAULT_MAX_FRAGMENT_BYTES;
    this.fixedDuration = options.fixedDuration;
  }

  /** Samples given so far. */
  get frames(): number {
    return this.samples;
  }

  /** Samples waiting for their fragment, and their bytes. */
  get pendingFrames(): number {
    return this.pending.length;
  }

  get pendingBytes(): number {
    return this.pendingData;
  }

  /** Capture time (µs) of the first sample. */
  get startUs(): number | undefined {
    return this.firstTimeUs;
  }

  /** The RFC 6381 codec string once the first unit is in (for a MIME type: video/mp4; codecs="avc1.42c01e"). */
  get codec(): string | undefined {
    return this.stream?.spsInfo ? codecString(this.stream.spsInfo) : undefined;
  }

  /**
   * Adds one Annex-B access unit (start codes, its SPS/PPS where it has them) captured at
   * `timeUs`. Throws RecorderError: INVALID_FRAME for bytes that are no picture, NOT_KEYFRAME
   * for a first unit that cannot start the stream, SIZE_MISMATCH when the parameter sets change
   * (a new stream needs a new init segment: start a new muxer).
   */
  pushAccessUnit(annexB: Uint8Array, timeUs: number): Mp4Chunk[] {
    const unit = parseAccessUnit(annexB, this.stream);
    if (unit instanceof RecorderError) throw unit;
    if (this.stream && !sameParameterSets(unit, this.stream)) {
      throw new RecorderError('SIZE_MISMATCH', `the H.264 parameter sets changed (now ${unit.width}x${unit.height}): a new stream needs a new muxer`);
    }
    return this.push(unit, timeUs);
  }

  /** Decode time (ticks) the sample after the last one given would have. */
  get endTicks(): number {
    return this.lastDecode < 0 ? 0 : this.lastDecode + this.lastInterval;
  }

  /**
   * Adds one access unit captured at `timeUs` (µs, any epoch); returns what is ready to go out.
   * The first unit must be a keyframe with its SPS and PPS (NOT_KEYFRAME otherwise).
   */
  push(unit: H264Unit, timeUs: number): Mp4Chunk[] {
    const out: Mp4Chunk[] = [];
    if (this.firstTimeUs === undefined) {
      if (!unit.keyframe || !unit.sps || !unit.pps || !unit.spsInfo) {
        throw new RecorderError('NOT_KEYFRAME', 'an MP4 starts at a keyframe (IDR) carrying its SPS and PPS: skip units until one');
      }
      this.firstTimeUs = timeUs;
      this.stream = unit;
      const init = initSegment({ sps: unit.sps, pps: unit.pps, spsInfo: unit.spsInfo }, timeUs / 1000);
      out.push({ kind: 'init', buffers: [init], bytes: init.length, frames: 0, keyframe: false, decodeTime: 0, duration: 0 });
    }
    const decode = this.decodeTime(timeUs);
    if (this.lastDecode >= 0) this.lastInterval = decode - this.lastDecode;
    this.lastDecode = decode;
    this.samples++;
    const sample: Pending = { buffers: sampleBuffers(unit), size: unit.sampleBytes, keyframe: unit.keyframe, decode, duration: 0 };
    if (this.mode === 'sample') {
      // The interval before it, unless that was a gap (a viewer that skipped pictures): a frame time.
      const duration = this.lastInterval <= TIMESCALE ? this.lastInterval : DEFAULT_DURATION;
      out.push(this.fragment([{ ...sample, duration }]));
      return out;
    }
    const first = this.pending[0];
    if (first && (unit.keyframe || decode - first.decode >= this.fragmentTicks || this.pendingData + sample.size > this.maxFragmentBytes)) {
      out.push(this.cut(decode));
    }
    this.pending.push(sample);
    this.pendingData += sample.size;
    return out;
  }

  /**
   * The samples waiting but the newest, as a fragment now (flush: their durations are known; the
   * newest one's is not until the next sample arrives). Empty when fewer than two wait.
   */
  cutWaiting(): Mp4Chunk[] {
    if (this.pending.length < 2) return [];
    const newest = this.pending.pop()!;
    this.pendingData -= newest.size;
    const chunk = this.cut(newest.decode);
    this.pending = [newest];
    this.pendingData = newest.size;
    return [chunk];
  }

  /** The samples still waiting, as a last fragment (the last duration is the interval before it). */
  end(): Mp4Chunk[] {
    return this.pending.length === 0 ? [] : [this.cut(this.endTicks)];
  }

  /** The waiting samples as one fragment; the sample after them starts at `nextDecode`. */
  private cut(nextDecode: number): Mp4Chunk {
    const samples = this.pending.map((s, i) => ({ ...s, duration: (this.pending[i + 1]?.decode ?? nextDecode) - s.decode }));
    this.pending = [];
    this.pendingData = 0;
    return this.fragment(samples);
  }

  private fragment(samples: readonly Pending[]): Mp4Chunk {
    const header = fragmentHeader(++this.sequence, samples[0]!.decode, samples);
    const buffers: Uint8Array[] = [header];
    let bytes = header.length;
    let duration = 0;
    for (const s of samples) {
      buffers.push(...s.buffers);
      bytes += s.size;
      duration += s.duration;
    }
    if (header.length !== fragmentHeaderBytes(samples.length)) throw new Error('fragment header size');
    return { kind: 'fragment', buffers, bytes, frames: samples.length, keyframe: samples[0]!.keyframe, decodeTime: samples[0]!.decode, duration };
  }

  /** Ticks from the first sample; never equal to or before the previous sample's. */
  private decodeTime(timeUs: number): number {
    const ticks = this.fixedDuration !== undefined
      ? this.samples * this.fixedDuration
      : Math.round(((timeUs - this.firstTimeUs!) * TIMESCALE) / 1e6);
    return Math.max(ticks, this.lastDecode + 1);
  }
}

/** A unit's NAL units with a 4-byte big-endian length before each (one small buffer for the lengths). */
function sampleBuffers(unit: H264Unit): Uint8Array[] {
  const lengths = Buffer.allocUnsafe(4 * unit.nals.length);
  const out: Uint8Array[] = [];
  unit.nals.forEach((nal, i) => {
    lengths.writeUInt32BE(nal.length, 4 * i);
    out.push(lengths.subarray(4 * i, 4 * i + 4), nal);
  });
  return out;
}
