// The capture settings' ranges and defaults, once. The option table (--size, --fps, --quality
// and the ceilings), PUT settings' schema and refusal, and the page's settings form read them.

/** Width and height, each, in pixels. */
export const SIZE_RANGE = { min: 16, max: 8192 } as const;
/** Frames per second; a fraction is allowed. */
export const FPS_RANGE = { min: 1, max: 240 } as const;
/** JPEG quality, an integer, mapped onto ffmpeg's -q:v. */
export const QUALITY_RANGE = { min: 1, max: 100 } as const;

/** What a camera captures with when nothing says otherwise. */
export const CAPTURE_DEFAULTS = { width: 640, height: 480, fps: 30, quality: 80 } as const;

/** A range as the settings' refusals and the quality flag write it: `1-100`. */
export const rangeText = (range: { min: number; max: number }): string => `${range.min}-${range.max}`;
