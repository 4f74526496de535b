import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAviStructure } from '../src/avi-reader.js';
import { createRecorder, inspect } from '../src/index.js';
import { decode } from './helpers/ffmpeg.js';
import { captureTimeUs, suiteFiles, withParity } from './helpers/frames.js';

let jpegs: Buffer[];
let dir: string;
suiteFiles('round-trip', 90, (f) => ({ jpegs, dir } = f));

async function record(name: string, frames: Buffer[], options: Parameters<typeof createRecorder>[1] = {}) {
  const path = join(dir, name);
  const rec = createRecorder(path, { checkpointIntervalMs: 0, ...options });
  for (let i = 0; i < frames.length; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: frames[i]! });
  const summary = await rec.close();
  return { path, summary };
}

describe('AVI round trip through the reader', () => {
  it('writes every frame byte for byte, indexed, at the measured 30000/1001 rate', async () => {
    const { path, summary } = await record('plain.avi', jpegs);
    expect(summary.frames).toBe(90);
    const s = await readAviStructure(path);
    expect(s.frames.map((f) => f.size)).toEqual(jpegs.map((j) => j.length));
    const file = await readFile(path);
    s.frames.forEach((f, i) => expect(file.subarray(f.offset, f.offset + f.size).equals(jpegs[i]!)).toBe(true));
    // idx1 offsets point at the chunks found by walking movi.
    expect(s.idx1?.entries).toEqual(s.frames);
    expect(s.riffs).toHaveLength(1);
    expect({ rate: s.video.rate, scale: s.video.scale, length: s.video.length }).toEqual({ rate: 30000, scale: 1001, length: 90 });
    expect({ w: s.video.width, h: s.video.height, total: s.main.totalFrames }).toEqual({ w: 160, h: 120, total: 90 });
    const info = await inspect(path);
    expect(info.problems).toEqual([]);
    expect(info.indexed).toBe(true);
    expect(info.durationSeconds).toBeCloseTo((90 * 1001) / 30000, 6);
  });

  it('is decoded by ffmpeg without an error and with every frame', async () => {
    const { path } = await record('ffmpeg.avi', jpegs);
    const d = await decode(path);
    expect(d.errors).toBe('');
    expect(d.frames).toBe(90);
  });

  it('pads odd-length JPEGs to an even chunk and keeps their sizes', async () => {
    const frames = jpegs.slice(0, 10).map((j, i) => withParity(j, i % 2 === 0));
    expect(frames.filter((f) => f.length % 2 === 1)).toHaveLength(5);
    const { path } = await record('odd.avi', frames);
    const s = await readAviStructure(path);
    expect(s.frames.map((f) => f.size)).toEqual(frames.map((f) => f.length));
    // Every chunk starts on an even offset (the pad byte is there).
    expect(s.frames.every((f) => (f.offset - 8) % 2 === 0)).toBe(true);
    expect((await inspect(path)).problems).toEqual([]);
    const d = await decode(path);
    expect(d).toMatchObject({ errors: '', frames: 10 });
  });

  it('continues in OpenDML AVIX RIFFs past the threshold, every RIFF indexed by ix00 and indx', async () => {
    const threshold = 64 * 1024;
    const { path, summary } = await record('multi.avi', jpegs, { riffThreshold: threshold });
    const s = await readAviStructure(path);
    expect(s.riffs.length).toBeGreaterThan(3);
    expect(summary.files[0]!.riffs).toBe(s.riffs.length);
    expect(s.riffs[0]!.form).toBe('AVI ');
    expect(s.riffs.slice(1).every((r) => r.form === 'AVIX')).toBe(true);
    for (const r of s.riffs) expect(r.size + 8).toBeLessThanOrEqual(threshold);
    // Byte for byte, in order, across RIFFs.
    const file = await readFile(path);
    expect(s.frames).toHaveLength(90);
    s.frames.forEach((f, i) => expect(file.subarray(f.offset, f.offset + f.size).equals(jpegs[i]!)).toBe(true));
    // One ix00 per RIFF, listed by the super index, together covering every frame in order.
    expect(s.standardIndexes).toHaveLength(s.riffs.length);
    expect(s.video.superIndex.map((e) => e.offset)).toEqual(s.standardIndexes.map((c) => c.offset));
    expect(s.video.superIndex.map((e) => e.frames)).toEqual(s.riffs.map((r) => r.frames));
    expect(s.standardIndexes.flatMap((c) => c.entries)).toEqual(s.frames);
    // idx1 covers the first RIFF only; counts: avih first RIFF, strh and dmlh the whole file.
    expect(s.idx1?.entries).toEqual(s.frames.slice(0, s.riffs[0]!.frames));
    expect(s.main.totalFrames).toBe(s.riffs[0]!.frames);
    expect(s.video.length).toBe(90);
    expect(s.grandFrames).toBe(90);
    const info = await inspect(path);
    expect(info).toMatchObject({ problems: [], indexed: true, frames: 90, riffs: s.riffs.length });
    const d = await decode(path);
    expect(d).toMatchObject({ errors: '', frames: 90 });
  });
});
