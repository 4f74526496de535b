// The background's first estimate: the per-pixel median of frames sampled over the warm-up. An
// object moving at start covers each pixel in only a few of them, so the median is the scene
// behind it; seeding from the first frame alone would keep the object's ghost for
// backgroundMs x 8 (changed pixels are learned slowly), one long event.

/** At most this many frames are kept (memory: this many bytes per pixel), spread over the warm-up. */
export const MAX_WARM_UP_SAMPLES = 9;

/** Collects the warm-up's frames and gives their median. */
export class WarmUp {
  private readonly samples: Uint8Array[] = [];
  private readonly startedAt: number;
  private sampledAt: number;

  /** Starts with the first frame (already blurred), seen at `t` ms. */
  constructor(
    first: Float32Array,
    t: number,
    private readonly durationMs: number,
  ) {
    this.startedAt = t;
    this.sampledAt = t;
    this.samples.push(Uint8Array.from(first, Math.round));
  }

  /** Takes a frame seen at `t` ms; true once the warm-up is over (this frame included). */
  add(frame: Float32Array, t: number): boolean {
    const spacing = this.durationMs / MAX_WARM_UP_SAMPLES;
    if (this.samples.length < MAX_WARM_UP_SAMPLES && t - this.sampledAt >= spacing) {
      this.samples.push(Uint8Array.from(frame, Math.round));
      this.sampledAt = t;
    }
    return t - this.startedAt >= this.durationMs;
  }

  /** Writes each pixel's median over the samples into `background`. */
  median(background: Float32Array): void {
    const k = this.samples.length;
    const values = new Uint8Array(k);
    const mid = k >> 1;
    for (let i = 0; i < background.length; i++) {
      for (let j = 0; j < k; j++) values[j] = this.samples[j]![i]!;
      values.sort();
      background[i] = k % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
    }
  }
}
