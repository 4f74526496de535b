import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAviStructure } from '../src/avi-reader.js';
import { RateMeter, rationalFor } from '../src/frame-rate.js';
import { createRecorder } from '../src/index.js';
import { suiteFiles } from './helpers/frames.js';
import { sleep } from './helpers/sleep.js';
import { MemoryDisk } from './helpers/memory-disk.js';

describe('frame rate as a rational', () => {
  it.each([
    [29.97, { num: 30000, den: 1001 }],
    [29.9701, { num: 30000, den: 1001 }],
    [30.02, { num: 30, den: 1 }],
    [23.976, { num: 24000, den: 1001 }],
    [25.05, { num: 25, den: 1 }],
    [59.94, { num: 60000, den: 1001 }],
    [7.5, { num: 15, den: 2 }],
    [14.3, { num: 143, den: 10 }], // no common rate within 0.5%: milli-frames per second
    [17.123, { num: 17123, den: 1000 }],
  ])('writes %s fps as %o', (f, rate) => {
    expect(rationalFor(f)).toEqual(rate);
  });

  it('stays within 0.5% of any measured rate from 0.01 to 1000 fps', () => {
    fc.assert(fc.property(fc.double({ min: 0.01, max: 1000, noNaN: true }), (f) => {
      const r = rationalFor(f);
      expect(Number.isInteger(r.num) && Number.isInteger(r.den)).toBe(true);
      expect(Math.abs(r.num / r.den - f) / f).toBeLessThanOrEqual(0.005);
    }));
  });

  it('measures frames - 1 intervals over the span of the timestamps', () => {
    const m = new RateMeter();
    expect(m.framesPerSecond).toBeUndefined();
    for (let i = 0; i < 11; i++) m.add(5_000_000 + i * 40_000);
    expect(m.framesPerSecond).toBeCloseTo(25, 9);
    expect(m.rate()).toEqual({ num: 25, den: 1 });
  });
});

describe('the rate written in the file', () => {
  let jpegs: Buffer[];
  let dir: string;
  suiteFiles('rate', 12, (f) => ({ jpegs, dir } = f));

  it('is measured from arrival times when frames carry no capture time', async () => {
    const path = join(dir, 'arrival.avi');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    for (const j of jpegs) {
      await rec.write(j);
      await sleep(25); // at most 40 fps; slower under load
    }
    const summary = await rec.close();
    const s = await readAviStructure(path);
    const f = s.video.rate / s.video.scale;
    expect(f).toBeLessThanOrEqual(41);
    expect(f).toBeGreaterThan(5);
    expect(summary.files[0]!.frameRate).toEqual({ num: s.video.rate, den: s.video.scale });
  });

  it('is the caller\'s when fixed, whatever the timestamps say', async () => {
    const path = join(dir, 'fixed.avi');
    const rec = createRecorder(path, { frameRate: { num: 30000, den: 1001 }, checkpointIntervalMs: 0 });
    for (const [i, jpeg] of jpegs.entries()) await rec.write({ seq: i, captureTimeUs: 1e12 + i * 100_000, jpeg });
    await rec.close();
    const s = await readAviStructure(path);
    expect([s.video.rate, s.video.scale, s.main.microSecPerFrame]).toEqual([30000, 1001, 33367]);
  });

  it('is written at every checkpoint too, so a killed recording already has it', async () => {
    const disk = new MemoryDisk();
    const rec = createRecorder('/disk/rate.avi', { fs: disk, checkpointIntervalMs: 0 });
    for (const [i, jpeg] of jpegs.entries()) await rec.write({ seq: i, captureTimeUs: 1e12 + i * 40_000, jpeg });
    await rec.flush();
    const bytes = disk.files.get('/disk/rate.avi')!.bytes();
    const path = join(dir, 'checkpointed.avi');
    await writeFile(path, bytes);
    const s = await readAviStructure(path);
    expect([s.video.rate, s.video.scale, s.video.length]).toEqual([25, 1, 12]);
    await rec.close();
  });
});
