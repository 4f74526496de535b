import { describe, expect, it } from 'vitest';
import { RecordStats, formatBytes, formatElapsed, progressLine } from '../src/record-stats.js';

function frame(seq: number, bytes = 1000) {
  return { seq, captureTimeUs: 0, jpeg: Buffer.alloc(bytes) };
}

describe('RecordStats', () => {
  it('counts v2 sequence gaps as dropped, and starts over on a new connection', () => {
    let now = 0;
    const stats = new RecordStats(() => now);
    for (const seq of [10, 11, 14, 15, 20]) stats.frame(frame(seq), true);
    expect(stats.snapshot().dropped).toBe(2 + 4);
    stats.resetSequence();
    stats.frame(frame(0), true);
    stats.frame(frame(1), true);
    expect(stats.snapshot().dropped).toBe(6);
  });

  it('ignores sequence numbers of legacy frames (they are local counters)', () => {
    const stats = new RecordStats(() => 0);
    stats.frame(frame(0), false);
    stats.frame(frame(5), false);
    expect(stats.snapshot().dropped).toBe(0);
  });

  it('gives the live rate over the last two seconds, falling to 0 when frames stop', () => {
    let now = 0;
    const stats = new RecordStats(() => now);
    for (let i = 0; i < 75; i++) {
      now = i * 40; // 25 fps for 3 s
      stats.frame(frame(i, 5000), true);
    }
    const live = stats.snapshot();
    expect(live.fps).toBe(25);
    expect(live.kbitPerSecond).toBe((25 * 5000 * 8) / 1000);
    now += 2500;
    expect(stats.snapshot().fps).toBe(0);
    expect(stats.snapshot().kbitPerSecond).toBe(0);
  });

  it('gives the final rate from the first to the last frame', () => {
    let now = 1000;
    const stats = new RecordStats(() => now);
    for (let i = 0; i < 11; i++) {
      stats.frame(frame(i), true);
      now += 100;
    }
    now += 60_000;
    const s = stats.snapshot(true);
    expect(s.fps).toBeCloseTo(10, 6);
    expect(s.elapsedMs).toBe(1000);
    expect(s.frames).toBe(11);
  });
});

describe('formatting', () => {
  it.each([
    [0, '00:00'],
    [59_999, '00:59'],
    [61_000, '01:01'],
    [3_723_000, '1:02:03'],
  ])('shows %i ms as %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it.each([
    [999, '999 B'],
    [1000, '1.00 kB'],
    [14_200, '14.2 kB'],
    [350_000, '350 kB'],
    [3_500_000, '3.50 MB'],
    [1_070_000_000, '1.07 GB'],
  ])('shows %i bytes as %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('puts elapsed, frames, fps, kbit/s, dropped and file size on the live line', () => {
    const line = progressLine({ elapsedMs: 65_000, frames: 1950, bytes: 0, fps: 29.97, kbitPerSecond: 1843.4, dropped: 3, rejected: 0 }, 15_300_000);
    expect(line).toBe('01:05  1950 frames  30.0 fps  1843 kbit/s  3 dropped  15.3 MB');
  });
});
