// ?fps=N thinning, with the clock passed in: no timers, exact counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FramePacer, parseFpsParam } from '../src/http/frame-pacer.js';

/** Frames arriving every 1000/sourceFps ms for `seconds`, with ±jitter ms; returns how many were admitted. */
function admitted(sourceFps: number, maxFps: number, seconds: number, jitter: (i: number) => number = () => 0): number {
  const pacer = new FramePacer(maxFps);
  let count = 0;
  const frames = Math.round(sourceFps * seconds);
  for (let i = 0; i < frames; i++) if (pacer.admit((i * 1000) / sourceFps + jitter(i))) count += 1;
  return count;
}

describe('FramePacer', () => {
  it.each([
    [30, 10, 100],
    [30, 15, 150],
    [30, 20, 200],
    [30, 30, 300],
    [30, 60, 300],
    [25, 1, 10],
    [30, 0.5, 5],
  ])('thins %d fps to at most %d fps (%d frames in 10 s)', (source, max, expected) => {
    expect(admitted(source, max, 10)).toBe(expected);
  });

  it('keeps the rate when capture times jitter by a few milliseconds', () => {
    const jitter = (i: number) => ((i * 7919) % 9) - 4; // deterministic, within ±4 ms
    expect(admitted(30, 10, 10, jitter)).toBe(100);
    expect(admitted(30, 30, 10, jitter)).toBe(300);
  });

  it('restarts its schedule after a pause instead of letting a burst through', () => {
    const pacer = new FramePacer(10);
    expect(pacer.admit(0)).toBe(true);
    expect(pacer.admit(50)).toBe(false);
    // The source paused for ten seconds; frames now arrive every 33 ms again.
    const after = [10_000, 10_033, 10_066, 10_100].map((t) => pacer.admit(t));
    expect(after).toEqual([true, false, false, true]);
  });

  it('never admits more than the asked rate allows, whatever the arrival times', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.2, max: 120, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 200, noNaN: true }), { minLength: 1, maxLength: 400 }),
        (maxFps, gaps) => {
          const pacer = new FramePacer(maxFps);
          let t = 0;
          let count = 0;
          for (const gap of gaps) {
            t += gap;
            if (pacer.admit(t)) count += 1;
          }
          // Each admission after the first needs 3/4 of an interval (the jitter slack) at least.
          return count <= 1 + Math.floor(t / ((1000 / maxFps) * 0.75));
        },
      ),
    );
  });

  it('refuses a rate that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new FramePacer(bad)).toThrow(RangeError);
  });
});

describe('parseFpsParam', () => {
  it('accepts absent, whole and decimal rates', () => {
    expect(parseFpsParam(null)).toEqual({ fps: undefined });
    expect(parseFpsParam('5')).toEqual({ fps: 5 });
    expect(parseFpsParam('0.5')).toEqual({ fps: 0.5 });
    expect(parseFpsParam('1000')).toEqual({ fps: 1000 });
  });

  it.each(['', '0', '-1', 'abc', '1e2', '0x10', '1001', '5fps', 'Infinity'])('rejects %j with a message', (raw) => {
    const result = parseFpsParam(raw);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toMatch(/^fps must be a number above 0/);
  });
});
