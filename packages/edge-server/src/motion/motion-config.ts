// A camera's `motion:` settings: the detector's options (durations held in seconds, written as a
// bare number of seconds or with a unit, like every duration of the config file) plus how often
// and how small the picture is analysed.
import { z } from 'zod';
import type { MotionOptions } from '@edgecam/motion';
import { duration, onOff } from '../config/units.js';

/** Seconds, written as a bare number or with a unit (`500ms`, `2s`), up to an hour. */
const seconds = (aboveZero = false) => duration({ aboveMin: aboveZero, max: 3_600_000, into: 's' });

const unit = z.number().min(0).max(1);
const point = z.tuple([unit, unit]);

/** One ignored region, normalized 0..1 from the top left. */
export const motionMaskSchema = z.union([
  z.strictObject({ rect: z.tuple([unit, unit, unit, unit]).refine(([l, t, r, b]) => l < r && t < b, 'rect must be [left, top, right, bottom] with left < right and top < bottom') }),
  z.strictObject({ polygon: z.array(point).min(3) }),
]);

/** A camera's `motion:` settings, every key optional. */
export const motionConfigSchema = z.strictObject({
  /** Frames analysed per second; the rest are skipped. */
  fps: z.number().gt(0).max(30).default(5),
  /** Width of the analysed picture in pixels; the height keeps the camera's aspect. */
  width: z.number().int().min(32).max(640).default(160),
  /** Difference from the background (1..255) that marks a pixel as changed. */
  threshold: z.number().min(1).max(255).default(25),
  /** Share of the unmasked picture (0..1) that must move. */
  minArea: z.number().gt(0).max(1).default(0.005),
  /** Seconds motion must last before an event starts. */
  minDuration: seconds().prefault(0.5),
  /** Seconds without motion before an event ends. */
  hold: seconds().prefault(2),
  /** Ignored regions. */
  masks: z.array(motionMaskSchema).default([]),
  /** Seconds: time constant of the background model. */
  background: seconds(true).prefault(5),
  /** Seconds after start whose frames seed the background (their median); no motion is reported meanwhile. */
  warmUp: seconds().prefault(2),
  /** Subtract the picture's median brightness shift (slow light changes are not motion). */
  compensateLight: onOff().prefault(true),
  /** More than this share changing at once is a light change, not motion. */
  lightChangeShare: z.number().gt(0).max(1).default(0.6),
  /** Box blur radius in pixels against sensor noise. */
  blur: z.number().int().min(0).max(8).default(1),
  /** Changed neighbours (of 8) a changed pixel needs to count. */
  minNeighbours: z.number().int().min(0).max(8).default(3),
});

/** A camera's motion settings, defaults filled in. */
export type MotionConfig = z.output<typeof motionConfigSchema>;

/** The detector's options for a configuration. */
export function detectorOptions(cfg: MotionConfig): MotionOptions {
  return {
    threshold: cfg.threshold,
    minArea: cfg.minArea,
    minDurationMs: cfg.minDuration * 1000,
    holdMs: cfg.hold * 1000,
    masks: cfg.masks,
    backgroundMs: cfg.background * 1000,
    warmUpMs: cfg.warmUp * 1000,
    compensateLight: cfg.compensateLight,
    lightChangeShare: cfg.lightChangeShare,
    blurRadius: cfg.blur,
    minNeighbours: cfg.minNeighbours,
  };
}
