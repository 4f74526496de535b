/**
 * Frame rates as AVI stores them (dwRate / dwScale), measured from frame timestamps.
 */

/** frames per second = num / den (AVI: strh.dwRate / strh.dwScale). */
export interface FrameRate {
  readonly num: number;
  readonly den: number;
}

/** Used when fewer than two timestamps are known (a 1-frame file has no measurable rate). */
export const DEFAULT_FRAME_RATE: FrameRate = { num: 30, den: 1 };

/** Measured rates are clamped to this range: a burst of frames has no meaningful rate. */
export const MIN_FPS = 0.01;
export const MAX_FPS = 1000;

/**
 * Rates players and cameras use. A measured rate within RATE_TOLERANCE of one of these is
 * written as that rational (so 29.97 becomes 30000/1001, not 29970/1000).
 */
const COMMON_RATES: readonly FrameRate[] = [
  { num: 1, den: 1 }, { num: 2, den: 1 }, { num: 3, den: 1 }, { num: 4, den: 1 },
  { num: 5, den: 1 }, { num: 6, den: 1 }, { num: 15, den: 2 }, { num: 8, den: 1 },
  { num: 10, den: 1 }, { num: 12, den: 1 }, { num: 25, den: 2 }, { num: 15, den: 1 },
  { num: 20, den: 1 }, { num: 24000, den: 1001 }, { num: 24, den: 1 }, { num: 25, den: 1 },
  { num: 30000, den: 1001 }, { num: 30, den: 1 }, { num: 48, den: 1 }, { num: 50, den: 1 },
  { num: 60000, den: 1001 }, { num: 60, den: 1 }, { num: 90, den: 1 }, { num: 100, den: 1 },
  { num: 120000, den: 1001 }, { num: 120, den: 1 }, { num: 144, den: 1 }, { num: 240, den: 1 },
];

/** Relative distance under which a measured rate snaps to a common one (0.5%). */
export const RATE_TOLERANCE = 0.005;

export function fps(rate: FrameRate): number {
  return rate.num / rate.den;
}

/**
 * The rational to write for a rate in frames per second: the nearest common rate if within
 * RATE_TOLERANCE, else round(fps * 1000) / 1000 reduced (per million below 1 fps, so slow
 * time-lapse rates keep their precision).
 */
export function rationalFor(framesPerSecond: number): FrameRate {
  if (!Number.isFinite(framesPerSecond) || framesPerSecond <= 0) return DEFAULT_FRAME_RATE;
  const f = Math.min(MAX_FPS, Math.max(MIN_FPS, framesPerSecond));
  let best: FrameRate | undefined;
  let bestDistance = Infinity;
  for (const r of COMMON_RATES) {
    const distance = Math.abs(fps(r) - f) / fps(r);
    if (distance < bestDistance) {
      best = r;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= RATE_TOLERANCE) return best;
  const scale = f >= 1 ? 1000 : 1_000_000;
  const num = Math.round(f * scale);
  const g = gcd(num, scale);
  return { num: num / g, den: scale / g };
}

/** Validate a caller-given rate: a number of fps or a {num, den} pair. */
export function normalizeRate(rate: number | FrameRate): FrameRate | undefined {
  if (typeof rate === 'number') {
    return Number.isFinite(rate) && rate >= MIN_FPS && rate <= MAX_FPS ? rationalFor(rate) : undefined;
  }
  const { num, den } = rate;
  if (!Number.isInteger(num) || !Number.isInteger(den) || num <= 0 || den <= 0) return undefined;
  if (num > 0xffffffff || den > 0xffffffff) return undefined;
  const f = num / den;
  return f >= MIN_FPS && f <= MAX_FPS ? { num, den } : undefined;
}

/**
 * Measures a file's rate from its frames' timestamps (µs): frames - 1 intervals over the time
 * from the first frame to the last, so pauses in the source lengthen the file as they did the
 * recording, and the file's duration matches the real one.
 */
export class RateMeter {
  private first: number | undefined;
  private last: number | undefined;
  private count = 0;

  add(timeUs: number): void {
    if (!Number.isFinite(timeUs)) return;
    if (this.first === undefined) this.first = timeUs;
    this.last = timeUs;
    this.count++;
  }

  /** Measured frames per second, or undefined before two distinct timestamps. */
  get framesPerSecond(): number | undefined {
    if (this.first === undefined || this.last === undefined || this.count < 2) return undefined;
    const span = this.last - this.first;
    return span > 0 ? ((this.count - 1) * 1e6) / span : undefined;
  }

  /** The rational to write now: measured, else `fallback`. */
  rate(fallback: FrameRate = DEFAULT_FRAME_RATE): FrameRate {
    const f = this.framesPerSecond;
    return f === undefined ? fallback : rationalFor(f);
  }

  /** Time of the first frame (µs), for duration-based segments. */
  get firstTimeUs(): number | undefined {
    return this.first;
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
