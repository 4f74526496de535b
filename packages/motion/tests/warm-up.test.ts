// The background's warm-up: the model is seeded from the first frames, so what moves at start is
// not learned into the background (where its ghost would be seen as motion for half a minute),
// and what stands still at start is not taken for motion.
import { describe, expect, it } from 'vitest';
import { MotionDetector, resolveMotionOptions, type MotionEvent } from '../src/index.js';
import { FPS, W, background, box, noise, run, toFrame } from './scene.js';

/** A 16 px box crossing left to right between `from` and `to` seconds (before 0: already in the picture at start). */
function pass(from: number, to: number) {
  return (px: Float32Array, t: number) => {
    if (t < from || t >= to) return;
    box(px, -16 + ((t - from) / (to - from)) * (W + 16), 40, 16, 230);
  };
}

/** How many frames an ended event spans, first and last moving frame included. */
const framesOf = (e: MotionEvent) => Math.round(((e.endedAt! - e.startedAt) * FPS) / 1000) + 1;

describe('MotionDetector warm-up', () => {
  it('gives a box crossing twice right after start events as long as its later crossings', () => {
    // The first pass is under way when the detector starts (the box is in the first frame).
    const passes = [pass(-1, 4), pass(7, 12), pass(30, 35), pass(40, 45)];
    const ends = run(new MotionDetector(), 50, (px, t) => passes.forEach((p) => p(px, t))).filter((e) => e.phase === 'end');
    expect(ends.map((e) => Math.floor(e.startedAt / 1000))).toEqual([expect.any(Number), 7, 30, 40]);
    const [first, second, third, fourth] = ends.map(framesOf) as [number, number, number, number];
    // The later crossings, seen by a settled background, are the yardstick.
    expect(Math.abs(third - fourth)).toBeLessThanOrEqual(1);
    expect(Math.abs(second - fourth)).toBeLessThanOrEqual(2);
    // The first pass is partly over when the warm-up ends: no longer than a whole one, and not empty.
    expect(first).toBeLessThanOrEqual(fourth + 2);
    expect(first).toBeGreaterThan(1);
  });

  it('takes a noisy scene that stands still from the start for no motion', () => {
    const detector = new MotionDetector();
    expect(run(detector, 20, noise(20, 5))).toEqual([]);
    expect(detector.last.moving).toBe(false);
  });

  it('reports no motion while it warms up, however much moves', () => {
    const detector = new MotionDetector({ warmUpMs: 3000, minDurationMs: 0 });
    const bg = background();
    for (let t = 0; t < 3; t += 1 / FPS) {
      const px = Float32Array.from(bg);
      pass(-1, 2)(px, t);
      expect(detector.push(toFrame(px, t * 1000))).toBeUndefined();
      expect(detector.last.moving).toBe(false);
      expect(detector.warmingUp).toBe(true);
    }
  });

  it('with warmUpMs 0, takes the first frame for the background, box and all', () => {
    // The box's ghost where it stood in the first frame is learned eight times slower than the
    // scene: long after the box left (at 4 s), it still counts as motion; with the warm-up it does not.
    const seeded = new MotionDetector({ warmUpMs: 0 });
    expect(run(seeded, 20, pass(-1, 4)).map((e) => e.phase)).toContain('start');
    expect(seeded.inEvent).toBe(true);
    const warmed = new MotionDetector();
    expect(run(warmed, 20, pass(-1, 4)).filter((e) => e.phase !== 'update').map((e) => e.phase)).toEqual(['start', 'end']);
    expect(warmed.inEvent).toBe(false);
  });

  it('refuses a warm-up that is no duration', () => {
    expect(() => resolveMotionOptions({ warmUpMs: -1 })).toThrow(/warmUpMs -1 is out of range: use 0 or more/);
    expect(resolveMotionOptions().warmUpMs).toBe(2000);
  });
});
