/**
 * Joining MP4 segments over a time range without re-encoding: the samples are the inputs' bytes,
 * the output starts at a keyframe, gaps between segments are closed, any byte range of the
 * output can be produced alone, and inputs of another stream are refused.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMp4Structure } from '../src/mp4-reader.js';
import { type Mp4JoinInput, createRecorder, inspectMp4, joinMp4, planMp4Join, readMp4Join } from '../src/index.js';
import { decode } from './helpers/ffmpeg.js';
import { tempDir } from './helpers/frames.js';
import { makeH264 } from './helpers/h264.js';

let units: Buffer[];
let other: Buffer[];
let dir: string;
let cleanup: () => Promise<void>;
let segments: Mp4JoinInput[];
const T0 = 1_700_000_000_000_000;
const MS0 = T0 / 1000;
/** 30 fps, then a 5 s gap (the camera was away) before frame 120. */
const at = (i: number): number => T0 + Math.round((i * 1e6) / 30) + (i >= 120 ? 5_000_000 : 0);

beforeAll(async () => {
  [units, other] = await Promise.all([makeH264(180), makeH264(30, { size: '320x240' })]);
  ({ dir, cleanup } = await tempDir('mp4-join'));
  const rec = createRecorder(join(dir, 'seg_{unixms}.mp4'), { checkpointIntervalMs: 0, segment: { durationMs: 2000 }, namesFromCaptureTime: true });
  for (let i = 0; i < 180; i++) await rec.write({ h264: units[i]!, captureTimeUs: at(i) });
  await rec.close();
  const names = (await readdir(dir)).filter((n) => n.startsWith('seg_')).sort();
  segments = names.map((n) => ({ path: join(dir, n), startMs: Number(/seg_(\d+)_/.exec(n)![1]) }));
}, 60_000);
afterAll(() => cleanup());

/** The sample bytes of a file, in order. */
async function samplesOf(path: string): Promise<Buffer[]> {
  const [s, file] = await Promise.all([readMp4Structure(path), readFile(path)]);
  return s.fragments.flatMap((f) => [...f.samples.offsets].map((o, k) => file.subarray(o, o + f.samples.sizes[k]!)));
}

describe('joinMp4', () => {
  it('joins whole segments into one file holding every sample as it was, the gap closed', async () => {
    expect(segments.map((s) => s.startMs! - MS0)).toEqual([0, 2000, 9000]);
    const out = join(dir, 'all.mp4');
    const plan = await joinMp4(segments, out);
    expect(plan).toMatchObject({ frames: 180, width: 160, height: 120, startMs: MS0 });
    // 4 s, the gap closed, then 2 s: the second segment follows the first one's last frame.
    expect(plan.parts.map((p) => [p.startMs - MS0, p.mediaStartSeconds, p.frames])).toEqual([[0, 0, 60], [2000, 2, 60], [9000, 4, 60]]);
    expect(plan.durationSeconds).toBeCloseTo(6, 6);
    const inputs = (await Promise.all(segments.map((s) => samplesOf(s.path)))).flat();
    const joined = await samplesOf(out);
    expect(joined.length).toBe(180);
    joined.forEach((b, i) => expect(b.equals(inputs[i]!), `sample ${i}`).toBe(true));
    expect(await inspectMp4(out)).toMatchObject({ frames: 180, indexed: true, problems: [] });
    expect(await decode(out)).toMatchObject({ errors: '', frames: 180 });
  });

  it('starts at the last keyframe at or before `from` and ends with the last frame at or before `to`', async () => {
    const out = join(dir, 'range.mp4');
    // From 1.5 s (keyframe at 1 s, frame 30) to 2.5 s (frame 75) of the camera's time.
    const plan = await joinMp4(segments, out, { fromMs: MS0 + 1500, toMs: MS0 + 2500 });
    expect(plan.startMs).toBe(MS0 + 1000);
    expect(plan.frames).toBe(46); // frames 30..75
    expect(plan.parts.map((p) => p.frames)).toEqual([30, 16]);
    const info = await inspectMp4(out);
    expect(info.fragments[0]).toMatchObject({ keyframe: true, startSeconds: 0 });
    expect(await decode(out)).toMatchObject({ errors: '', frames: 46 });
    const all = (await Promise.all(segments.map((s) => samplesOf(s.path)))).flat();
    (await samplesOf(out)).forEach((b, i) => expect(b.equals(all[30 + i]!)).toBe(true));
  });

  it('serves any byte range of the planned file exactly as the whole file has it', async () => {
    const plan = await planMp4Join(segments, { fromMs: MS0 + 500 });
    const whole: Buffer[] = [];
    for await (const c of readMp4Join(plan)) whole.push(c);
    const bytes = Buffer.concat(whole);
    expect(bytes.length).toBe(plan.size);
    for (const [a, b] of [[0, 0], [0, 99], [640, 700], [plan.size - 10, plan.size - 1], [1234, 98765]] as const) {
      const part: Buffer[] = [];
      for await (const c of readMp4Join(plan, a, b, 1000)) part.push(c);
      expect(Buffer.concat(part).equals(bytes.subarray(a, b + 1)), `bytes ${a}-${b}`).toBe(true);
    }
  });

  it('refuses inputs of another stream (SIZE_MISMATCH) and a range without frames (NOT_MP4)', async () => {
    const path = join(dir, 'other.mp4');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    for (let i = 0; i < 30; i++) await rec.write({ h264: other[i]!, captureTimeUs: T0 + 20_000_000 + i * 33_333 });
    await rec.close();
    await expect(planMp4Join([...segments, { path, startMs: MS0 + 20_000 }])).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    await expect(planMp4Join(segments, { fromMs: MS0 + 60_000 })).rejects.toMatchObject({ code: 'NOT_MP4' });
    await expect(planMp4Join([{ path: join(dir, 'missing.mp4') }])).rejects.toMatchObject({ code: 'READ_FAILED', errno: 'ENOENT' });
  });
});
