import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAviStructure } from '../src/avi-reader.js';
import { expandFileName } from '../src/file-name.js';
import { type RecorderEvent, createRecorder, inspect } from '../src/index.js';
import { decode } from './helpers/ffmpeg.js';
import { captureTimeUs, suiteFiles } from './helpers/frames.js';

let jpegs: Buffer[];
let dir: string;
suiteFiles('segments', 90, (f) => ({ jpegs, dir } = f));

/** Every frame of every file, in order, as bytes. */
async function framesOf(paths: string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const p of paths) {
    const s = await readAviStructure(p);
    const file = await readFile(p);
    for (const f of s.frames) out.push(file.subarray(f.offset, f.offset + f.size));
  }
  return out;
}

describe('segments', () => {
  it('rolls over by duration with no frame lost or duplicated at the seams', async () => {
    const events: RecorderEvent[] = [];
    await mkdir(join(dir, 'dur'));
    const rec = createRecorder(join(dir, 'dur', 'cam_{index:2}.avi'), {
      segment: { durationMs: 1000 },
      checkpointIntervalMs: 0,
      onEvent: (e) => events.push(e),
    });
    for (let i = 0; i < 90; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i]! });
    const summary = await rec.close();
    // 90 frames at 29.97 fps: 30 frames span 0.968 s, the 31st starts a new file at 1.001 s.
    expect(summary.files.map((f) => f.frames)).toEqual([30, 30, 30]);
    expect(summary.files.map((f) => f.path)).toEqual(['cam_01.avi', 'cam_02.avi', 'cam_03.avi'].map((n) => join(dir, 'dur', n)));
    expect(summary.files.every((f) => f.frameRate.num === 30000 && f.frameRate.den === 1001)).toBe(true);
    const paths = summary.files.map((f) => f.path);
    const got = await framesOf(paths);
    expect(got).toHaveLength(90);
    got.forEach((b, i) => expect(b.equals(jpegs[i]!)).toBe(true));
    for (const p of paths) {
      expect(await inspect(p)).toMatchObject({ frames: 30, problems: [], indexed: true });
      expect(await decode(p)).toMatchObject({ errors: '', frames: 30 });
    }
    expect(events.filter((e) => e.type === 'segment').map((e) => e.type === 'segment' && e.segment)).toEqual([2, 3]);
    expect(events.filter((e) => e.type === 'opened')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'closed')).toHaveLength(3);
  });

  it('rolls over by size, each file under the limit with its index', async () => {
    const maxBytes = 60 * 1024;
    const rec = createRecorder(join(dir, 'size.avi'), { segment: { maxBytes }, checkpointIntervalMs: 0 });
    for (let i = 0; i < 90; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i]! });
    const summary = await rec.close();
    expect(summary.files.length).toBeGreaterThan(3);
    expect(summary.frames).toBe(90);
    const names = (await readdir(dir)).filter((n) => n.startsWith('size_')).sort();
    expect(names).toEqual(summary.files.map((_, i) => `size_${String(i + 1).padStart(3, '0')}.avi`));
    for (const f of summary.files) {
      const info = await inspect(f.path);
      expect(info.fileBytes).toBeLessThanOrEqual(maxBytes);
      expect(info.fileBytes).toBe(f.bytes);
      expect(info).toMatchObject({ frames: f.frames, problems: [], indexed: true });
      expect(await decode(f.path)).toMatchObject({ errors: '', frames: f.frames });
    }
    const got = await framesOf(summary.files.map((f) => f.path));
    expect(got).toHaveLength(90);
    got.forEach((b, i) => expect(b.equals(jpegs[i]!)).toBe(true));
  });

  it('keeps OpenDML segments under the size limit too', async () => {
    const maxBytes = 150 * 1024;
    const rec = createRecorder(join(dir, 'odml_{index}.avi'), { segment: { maxBytes }, riffThreshold: 40 * 1024, checkpointIntervalMs: 0 });
    for (let i = 0; i < 90; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i]! });
    const summary = await rec.close();
    expect(summary.files.length).toBeGreaterThan(1);
    expect(summary.files.every((f) => f.riffs > 1)).toBe(true);
    for (const f of summary.files) {
      const info = await inspect(f.path);
      expect(info.fileBytes).toBeLessThanOrEqual(maxBytes);
      expect(info).toMatchObject({ frames: f.frames, riffs: f.riffs, problems: [], indexed: true });
    }
    const got = await framesOf(summary.files.map((f) => f.path));
    expect(got).toHaveLength(90);
    got.forEach((b, i) => expect(b.equals(jpegs[i]!)).toBe(true));
  });
});

describe('file name patterns', () => {
  const date = new Date(2024, 0, 2, 3, 4, 5);
  it.each([
    ['rec.avi', false, 'rec.avi'],
    ['rec.avi', true, 'rec_007.avi'],
    ['rec_{index}.avi', true, 'rec_7.avi'],
    ['rec_{index:4}.mjpeg', true, 'rec_0007.mjpeg'],
    ['cam_%Y-%m-%d_%H%M%S.avi', false, 'cam_2024-01-02_030405.avi'],
    ['cam_%Y%m%d.avi', true, 'cam_20240102_007.avi'],
    ['100%%_{unixms}.avi', false, `100%_${date.getTime()}.avi`],
  ])('expands %s (segmented: %s) to %s', (pattern, segmented, expected) => {
    expect(expandFileName(pattern, 7, date, segmented)).toBe(expected);
  });
});
