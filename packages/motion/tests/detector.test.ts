import { describe, expect, it } from 'vitest';
import { MotionDetector, resolveMotionOptions } from '../src/index.js';
import { H, W, box, noise, prng, run } from './scene.js';

/** An object 16 px square crossing left to right between `from` and `to` seconds. */
function crossing(from: number, to: number) {
  return (px: Float32Array, t: number) => {
    if (t < from || t >= to) return;
    const x = -16 + ((t - from) / (to - from)) * (W + 16);
    box(px, x, 40, 16, 230);
  };
}

describe('MotionDetector', () => {
  it('reports one event for an object entering and leaving, with its start and end times', () => {
    const events = run(new MotionDetector(), 20, crossing(5, 10));
    expect(events.map((e) => e.phase).filter((p) => p !== 'update')).toEqual(['start', 'end']);
    const start = events[0]!;
    const end = events.at(-1)!;
    expect(start.startedAt).toBeGreaterThanOrEqual(5000);
    expect(start.startedAt).toBeLessThanOrEqual(6000);
    expect(end.endedAt).toBeGreaterThanOrEqual(9000);
    expect(end.endedAt).toBeLessThanOrEqual(10_000);
    expect(end.score).toBeGreaterThan(0.01);
    expect(end.score).toBeLessThan(0.1);
  });

  it('ignores sensor noise on a still scene', () => {
    const detector = new MotionDetector();
    expect(run(detector, 30, noise(20))).toEqual([]);
    expect(detector.last.score).toBeLessThan(0.005);
  });

  it('still sees the object through the noise', () => {
    const paintNoise = noise(20, 2);
    const cross = crossing(5, 10);
    const events = run(new MotionDetector(), 20, (px, t) => {
      cross(px, t);
      paintNoise(px);
    });
    expect(events.map((e) => e.phase).filter((p) => p !== 'update')).toEqual(['start', 'end']);
  });

  it('ignores a slow global brightness ramp', () => {
    // +120 levels over 30 s, then back down, far more than the threshold.
    const events = run(new MotionDetector(), 60, (px, t) => {
      const shift = t < 30 ? t * 4 : (60 - t) * 4;
      for (let i = 0; i < px.length; i++) px[i]! += shift - 60;
    });
    expect(events).toEqual([]);
  });

  it('takes a sudden change of most of the picture for a light switch, not motion', () => {
    const detector = new MotionDetector({ compensateLight: false });
    const events = run(detector, 20, (px, t) => {
      if (t >= 10) for (let i = 0; i < px.length; i++) px[i] = px[i]! * 0.4;
    });
    expect(events).toEqual([]);
  });

  it('detects the object during a brightness ramp', () => {
    const cross = crossing(10, 15);
    const events = run(new MotionDetector(), 30, (px, t) => {
      for (let i = 0; i < px.length; i++) px[i]! += t * 3 - 40;
      cross(px, t);
    });
    expect(events.map((e) => e.phase).filter((p) => p !== 'update')).toEqual(['start', 'end']);
  });

  it('ignores a flickering region under a mask, and sees it without the mask', () => {
    const random = prng(3);
    const flicker = (px: Float32Array) => box(px, 120, 5, 30, random() * 255);
    const masked = new MotionDetector({ masks: [{ rect: [0.7, 0, 1, 0.5] }] });
    expect(run(masked, 20, flicker)).toEqual([]);
    expect(run(new MotionDetector(), 20, flicker).length).toBeGreaterThan(0);
  });

  it('masks with a polygon', () => {
    const random = prng(4);
    const flicker = (px: Float32Array) => box(px, 10, 50, 20, random() * 255);
    // A triangle covering the lower left corner.
    const detector = new MotionDetector({ masks: [{ polygon: [[0, 0.3], [0.6, 1], [0, 1]] }] });
    expect(run(detector, 20, flicker)).toEqual([]);
  });

  it('ignores motion shorter than minDurationMs', () => {
    const blip = (px: Float32Array, t: number) => {
      if (t >= 5 && t < 5.4) box(px, 60, 40, 16, 230);
    };
    expect(run(new MotionDetector({ minDurationMs: 1000 }), 10, blip)).toEqual([]);
    expect(run(new MotionDetector({ minDurationMs: 0 }), 10, blip).map((e) => e.phase)).toEqual(['start', 'end']);
  });

  it('ignores motion smaller than minArea', () => {
    const small = (px: Float32Array, t: number) => {
      if (t >= 5 && t < 10) box(px, 20 + t * 10, 40, 6, 230);
    };
    expect(run(new MotionDetector({ minArea: 0.01 }), 15, small)).toEqual([]);
    expect(run(new MotionDetector({ minArea: 0.001 }), 15, small).length).toBeGreaterThan(0);
  });

  it('keeps one event through a pause shorter than holdMs', () => {
    const twice = (px: Float32Array, t: number) => {
      if ((t >= 5 && t < 7) || (t >= 8 && t < 10)) box(px, 20 + t * 8, 40, 16, 230);
    };
    const phases = (hold: number) => run(new MotionDetector({ holdMs: hold }), 20, twice).map((e) => e.phase).filter((p) => p !== 'update');
    expect(phases(2000)).toEqual(['start', 'end']);
    expect(phases(500)).toEqual(['start', 'end', 'start', 'end']);
  });

  it('reports a growing object with updates of a higher score', () => {
    const growing = (px: Float32Array, t: number) => {
      if (t >= 5 && t < 12) box(px, 50 + Math.round(t * 4) % 2, 20, Math.round(8 + (t - 5) * 6), 230);
    };
    const events = run(new MotionDetector(), 20, growing);
    const updates = events.filter((e) => e.phase === 'update');
    expect(updates.length).toBeGreaterThan(0);
    const scores = events.map((e) => e.score);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
  });

  it('ends the event going on when finished', () => {
    const detector = new MotionDetector();
    const events = run(detector, 8, crossing(5, 15));
    expect(events[0]?.phase).toBe('start');
    expect(detector.finish(8000)).toMatchObject({ phase: 'end', startedAt: events[0]!.startedAt });
    expect(detector.finish(8000)).toBeUndefined();
  });

  it('relearns the background when the frame size changes', () => {
    const detector = new MotionDetector();
    detector.push({ data: new Uint8Array(W * H).fill(50), width: W, height: H, timestampMs: 0 });
    expect(detector.push({ data: new Uint8Array(80 * 45).fill(200), width: 80, height: 45, timestampMs: 200 })).toBeUndefined();
    expect(detector.last.score).toBe(0);
  });

  it('refuses a frame shorter than its size', () => {
    expect(() => new MotionDetector().push({ data: new Uint8Array(10), width: W, height: H, timestampMs: 0 })).toThrow(/does not hold 160x90 pixels/);
  });
});

describe('resolveMotionOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveMotionOptions({ threshold: 40 })).toMatchObject({ threshold: 40, minArea: 0.005, holdMs: 2000 });
  });

  it.each([
    [{ threshold: 0 }, /threshold 0 is out of range: use 1..255/],
    [{ minArea: 2 }, /minArea 2 is out of range/],
    [{ blurRadius: 1.5 }, /blurRadius 1.5 is out of range/],
    [{ masks: [{ rect: [0.5, 0, 0.2, 1] as const }] }, /mask 0: rect must be/],
    [{ masks: [{ polygon: [[0, 0], [1, 1]] as Array<[number, number]> }] }, /mask 0: polygon must be three or more/],
  ])('refuses %j', (options, message) => {
    expect(() => resolveMotionOptions(options)).toThrow(message);
  });
});
