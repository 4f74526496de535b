// The detector's knobs, their defaults and their checks. Defaults suit a frame of about 160x90
// analysed at a few frames per second.

/** A region to ignore, in normalized coordinates (0..1, origin top left). */
export type MotionMask =
  /** [left, top, right, bottom]. */
  | { rect: readonly [number, number, number, number] }
  /** Three or more [x, y] corners. */
  | { polygon: ReadonlyArray<readonly [number, number]> };

/** How MotionDetector decides what is motion. */
export interface MotionOptions {
  /** Difference from the background (0..255, after light compensation) that marks a pixel as changed. */
  threshold: number;
  /** Share of the unmasked picture (0..1) that must change for a frame to count as motion. */
  minArea: number;
  /** Motion must go on this long (ms) before an event starts. */
  minDurationMs: number;
  /** An event ends once no motion was seen for this long (ms). */
  holdMs: number;
  /** Regions that never count (a tree, a clock, a TV). */
  masks: readonly MotionMask[];
  /** Time constant (ms) of the running-average background: how fast the scene is relearned. */
  backgroundMs: number;
  /**
   * How long (ms) the first frames seed the background, which is their per-pixel median, so an
   * object moving at start is not learned in; no motion is reported meanwhile. 0: the first frame.
   */
  warmUpMs: number;
  /** Subtract the median brightness shift of the picture, so a slow light change is not motion. */
  compensateLight: boolean;
  /** A frame where more than this share (0..1) changes is a light switch or exposure jump: relearned, not motion. */
  lightChangeShare: number;
  /** Box blur radius in pixels (0: none), against sensor noise. */
  blurRadius: number;
  /** A changed pixel counts only when at least this many of its 8 neighbours changed too (0..8). */
  minNeighbours: number;
}

/** The defaults of every option. */
export const DEFAULT_MOTION_OPTIONS: Readonly<MotionOptions> = Object.freeze({
  threshold: 25,
  minArea: 0.005,
  minDurationMs: 500,
  holdMs: 2000,
  masks: [],
  backgroundMs: 5000,
  warmUpMs: 2000,
  compensateLight: true,
  lightChangeShare: 0.6,
  blurRadius: 1,
  minNeighbours: 3,
});

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

const isUnit = (n: number) => Number.isFinite(n) && n >= 0 && n <= 1;

/** The defaults overlaid with `options`; throws RangeError naming the first bad option and its valid range. */
export function resolveMotionOptions(options: Partial<MotionOptions> = {}): MotionOptions {
  const o: MotionOptions = { ...DEFAULT_MOTION_OPTIONS, ...options };
  check(Number.isFinite(o.threshold) && o.threshold >= 1 && o.threshold <= 255, `motion threshold ${o.threshold} is out of range: use 1..255`);
  check(isUnit(o.minArea) && o.minArea > 0, `motion minArea ${o.minArea} is out of range: use a share of the picture above 0 and at most 1`);
  check(Number.isFinite(o.minDurationMs) && o.minDurationMs >= 0, `motion minDurationMs ${o.minDurationMs} is out of range: use 0 or more`);
  check(Number.isFinite(o.holdMs) && o.holdMs >= 0, `motion holdMs ${o.holdMs} is out of range: use 0 or more`);
  check(Number.isFinite(o.backgroundMs) && o.backgroundMs > 0, `motion backgroundMs ${o.backgroundMs} is out of range: use more than 0`);
  check(Number.isFinite(o.warmUpMs) && o.warmUpMs >= 0, `motion warmUpMs ${o.warmUpMs} is out of range: use 0 or more`);
  check(isUnit(o.lightChangeShare) && o.lightChangeShare > 0, `motion lightChangeShare ${o.lightChangeShare} is out of range: use a share above 0 and at most 1`);
  check(Number.isInteger(o.blurRadius) && o.blurRadius >= 0 && o.blurRadius <= 8, `motion blurRadius ${o.blurRadius} is out of range: use a whole number 0..8`);
  check(Number.isInteger(o.minNeighbours) && o.minNeighbours >= 0 && o.minNeighbours <= 8, `motion minNeighbours ${o.minNeighbours} is out of range: use a whole number 0..8`);
  o.masks.forEach((m, i) => {
    if ('rect' in m) {
      const [l, t, r, b] = m.rect;
      check(m.rect.length === 4 && [l, t, r, b].every((v) => v !== undefined && isUnit(v)) && l! < r! && t! < b!, `motion mask ${i}: rect must be [left, top, right, bottom] within 0..1 with left < right and top < bottom`);
    } else {
      check(Array.isArray(m.polygon) && m.polygon.length >= 3 && m.polygon.every((p) => p.length === 2 && isUnit(p[0]) && isUnit(p[1])), `motion mask ${i}: polygon must be three or more [x, y] points within 0..1`);
    }
  });
  return o;
}
