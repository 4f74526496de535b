// Synthetic grayscale scenes for the detector's tests: a textured static background, plus
// whatever each test paints on top (an object, noise, a light change, a flickering region).
import type { GrayFrame, MotionDetector, MotionEvent } from '../src/index.js';

export const W = 160;
export const H = 90;
export const FPS = 5;

/** Deterministic numbers in 0..1 (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sensor noise: each pixel moved by up to `amplitude` levels either way. */
export function noise(amplitude: number, seed = 1): (px: Float32Array) => void {
  const random = prng(seed);
  return (px) => {
    for (let i = 0; i < px.length; i++) px[i]! += (random() * 2 - 1) * amplitude;
  };
}

/** A gradient with a coarse checker texture, mid-grey so light changes have room both ways. */
export function background(): Float32Array {
  const bg = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) bg[y * W + x] = 70 + x * 0.4 + ((x >> 3) + (y >> 3)) % 2 * 30;
  return bg;
}

/** Paints a filled box of `value` (clipped to the picture). */
export function box(px: Float32Array, left: number, top: number, size: number, value: number): void {
  for (let y = Math.max(0, top); y < Math.min(H, top + size); y++) {
    for (let x = Math.max(0, Math.round(left)); x < Math.min(W, Math.round(left) + size); x++) px[y * W + x] = value;
  }
}

export function toFrame(px: Float32Array, timestampMs: number): GrayFrame {
  const data = new Uint8Array(W * H);
  for (let i = 0; i < px.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(px[i]!)));
  return { data, width: W, height: H, timestampMs };
}

/** Runs `seconds` of a scene through the detector; `paint(px, t)` draws frame t (seconds) on a fresh background. */
export function run(detector: MotionDetector, seconds: number, paint: (px: Float32Array, t: number) => void): MotionEvent[] {
  const events: MotionEvent[] = [];
  const bg = background();
  for (let i = 0; i < seconds * FPS; i++) {
    const t = i / FPS;
    const px = Float32Array.from(bg);
    paint(px, t);
    const e = detector.push(toFrame(px, t * 1000));
    if (e) events.push(e);
  }
  return events;
}
