// Frame differencing against a running-average background. Per frame: blur, subtract the
// background and the picture's median brightness shift, threshold, drop changed pixels that have
// too few changed neighbours (sensor noise is isolated; objects are not), and measure the changed
// share of the unmasked picture. A run of such frames longer than minDurationMs starts an event;
// holdMs without motion ends it. The background starts as the median of the first warmUpMs of
// frames (warm-up.ts), during which nothing is reported.
import { boxBlur } from './blur.js';
import { rasteriseMasks } from './mask.js';
import { resolveMotionOptions, type MotionOptions } from './options.js';
import { WarmUp } from './warm-up.js';

/** One small grayscale picture, one byte per pixel, rows top to bottom. */
export interface GrayFrame {
  data: Uint8Array;
  width: number;
  height: number;
  /** Milliseconds on any clock that does not go backwards. */
  timestampMs: number;
}

/** A motion event's start, a higher score while it lasts, or its end. */
export interface MotionEvent {
  phase: 'start' | 'update' | 'end';
  /** When the first frame of the motion was seen. */
  startedAt: number;
  /** The last frame with motion; set at `end` only. */
  endedAt?: number;
  /** 0..1: the largest share of the unmasked picture seen moving so far in this event. */
  score: number;
}

/** What the detector made of the newest frame. */
export interface MotionSample {
  /** 0..1: share of the unmasked picture that moved. */
  score: number;
  /** The score reached minArea. */
  moving: boolean;
  /** So much of the picture changed that it was taken for a light change and relearned. */
  lightChange: boolean;
}

// A new maximum is reported when it beats the last reported one by this factor, so a growing
// object gives a few updates, not one per frame.
const UPDATE_FACTOR = 1.25;
const HISTOGRAM_OFFSET = 255;

/** Turns a stream of grayscale frames into motion events. Synchronous; keeps no reference to the frames it is given. */
export class MotionDetector {
  readonly options: Readonly<MotionOptions>;
  private width = 0;
  private height = 0;
  private background: Float32Array | null = null;
  private warmUp: WarmUp | null = null;
  private current = new Float32Array(0);
  private scratch = new Float32Array(0);
  private changed = new Uint8Array(0);
  private active: Uint8Array = new Uint8Array(0);
  private activeCount = 0;
  private readonly histogram = new Uint32Array(2 * HISTOGRAM_OFFSET + 1);
  private lastTimestamp = 0;
  private candidateSince: number | null = null;
  private event: { startedAt: number; lastMotionAt: number; score: number; reported: number } | null = null;
  private sample: MotionSample = { score: 0, moving: false, lightChange: false };

  /** Throws RangeError for an option out of range. */
  constructor(options: Partial<MotionOptions> = {}) {
    this.options = resolveMotionOptions(options);
  }

  /** The newest frame's verdict. */
  get last(): Readonly<MotionSample> {
    return this.sample;
  }

  /** The background is still being seeded from the first frames: no motion is reported yet. */
  get warmingUp(): boolean {
    return this.warmUp !== null;
  }

  /** An event is going on. */
  get inEvent(): boolean {
    return this.event !== null;
  }

  /** Analyses one frame; returns the event it starts, updates or ends, if any. A new frame size relearns the background. */
  push(frame: GrayFrame): MotionEvent | undefined {
    const { data, width, height, timestampMs: t } = frame;
    if (!(width > 0 && height > 0 && data.length >= width * height)) {
      throw new RangeError(`gray frame of ${data.length} bytes does not hold ${width}x${height} pixels: pass width*height bytes, one per pixel`);
    }
    const o = this.options;
    if (width !== this.width || height !== this.height) this.resize(width, height);
    boxBlur(data, this.current, this.scratch, width, height, o.blurRadius);
    const bg = this.background;
    if (bg === null) {
      this.background = Float32Array.from(this.current);
      if (o.warmUpMs > 0) this.warmUp = new WarmUp(this.current, t, o.warmUpMs);
      return this.quiet(t);
    }
    if (this.warmUp !== null) {
      if (this.warmUp.add(this.current, t)) {
        this.warmUp.median(bg);
        this.warmUp = null;
      }
      return this.quiet(t);
    }
    const dt = Math.max(0, t - this.lastTimestamp);
    this.lastTimestamp = t;

    const shift = o.compensateLight ? this.medianShift(bg) : 0;
    const cur = this.current;
    const changed = this.changed;
    const active = this.active;
    let raw = 0;
    for (let i = 0; i < cur.length; i++) {
      const c = active[i] === 1 && Math.abs(cur[i]! - bg[i]! - shift) > o.threshold ? 1 : 0;
      changed[i] = c;
      raw += c;
    }
    const lightChange = this.activeCount > 0 && raw / this.activeCount > o.lightChangeShare;
    let score = 0;
    if (lightChange) {
      bg.set(cur);
    } else {
      score = this.activeCount > 0 ? this.countClustered() / this.activeCount : 0;
      const alpha = 1 - Math.exp(-dt / o.backgroundMs);
      // Moving pixels are learned slowly, so an object is not absorbed while it passes.
      const slow = alpha / 8;
      for (let i = 0; i < cur.length; i++) bg[i]! += (changed[i] ? slow : alpha) * (cur[i]! - bg[i]!);
    }
    const moving = score >= o.minArea;
    this.sample = { score, moving, lightChange };
    return this.advance(t, score, moving);
  }

  /** Ends the event going on, if any (the stream stops); `timestampMs` is now. */
  finish(timestampMs: number): MotionEvent | undefined {
    this.candidateSince = null;
    const e = this.event;
    if (!e) return undefined;
    this.event = null;
    return { phase: 'end', startedAt: e.startedAt, endedAt: Math.min(e.lastMotionAt, timestampMs), score: e.score };
  }

  /** Forgets the background and any event, as for a new camera. */
  reset(): void {
    this.width = 0;
    this.height = 0;
    this.background = null;
    this.warmUp = null;
    this.candidateSince = null;
    this.event = null;
  }

  /** A frame that only feeds the background: nothing moves. */
  private quiet(t: number): undefined {
    this.lastTimestamp = t;
    this.sample = { score: 0, moving: false, lightChange: false };
    return undefined;
  }

  private advance(t: number, score: number, moving: boolean): MotionEvent | undefined {
    const o = this.options;
    const e = this.event;
    if (e === null) {
      if (!moving) {
        this.candidateSince = null;
        return undefined;
      }
      this.candidateSince ??= t;
      if (t - this.candidateSince < o.minDurationMs) return undefined;
      this.event = { startedAt: this.candidateSince, lastMotionAt: t, score, reported: score };
      this.candidateSince = null;
      return { phase: 'start', startedAt: this.event.startedAt, score };
    }
    if (moving) {
      e.lastMotionAt = t;
      e.score = Math.max(e.score, score);
      if (e.score >= e.reported * UPDATE_FACTOR) {
        e.reported = e.score;
        return { phase: 'update', startedAt: e.startedAt, score: e.score };
      }
      return undefined;
    }
    if (t - e.lastMotionAt < o.holdMs) return undefined;
    return this.finish(t);
  }

  private resize(width: number, height: number): void {
    const n = width * height;
    this.width = width;
    this.height = height;
    this.background = null;
    this.warmUp = null;
    this.current = new Float32Array(n);
    this.scratch = new Float32Array(n);
    this.changed = new Uint8Array(n);
    this.active = rasteriseMasks(this.options.masks, width, height, this.options.blurRadius);
    this.activeCount = this.active.reduce((sum, a) => sum + a, 0);
  }

  /** The median of current minus background over the unmasked pixels: a global light shift. */
  private medianShift(bg: Float32Array): number {
    const h = this.histogram;
    h.fill(0);
    const cur = this.current;
    const active = this.active;
    for (let i = 0; i < cur.length; i++) {
      if (active[i] === 1) h[Math.round(cur[i]! - bg[i]!) + HISTOGRAM_OFFSET]!++;
    }
    const half = this.activeCount / 2;
    let seen = 0;
    for (let b = 0; b < h.length; b++) {
      seen += h[b]!;
      if (seen > half) return b - HISTOGRAM_OFFSET;
    }
    return 0;
  }

  /** Changed pixels with at least minNeighbours changed neighbours (the border row and column never count). */
  private countClustered(): number {
    const { width: w, height: h } = this;
    const c = this.changed;
    const need = this.options.minNeighbours;
    let count = 0;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        if (c[i] === 0) continue;
        const n = c[i - w - 1]! + c[i - w]! + c[i - w + 1]! + c[i - 1]! + c[i + 1]! + c[i + w - 1]! + c[i + w]! + c[i + w + 1]!;
        if (n >= need) count++;
      }
    }
    return count;
  }
}
