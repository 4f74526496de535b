/**
 * MP4 recordings of real H.264 (libx264's test pattern) read back: every picture's NAL units in
 * its sample, the capture times as sample times (variable frame rate kept), fragments at
 * keyframes or every second, segments that start at keyframes, and ffprobe's view of all that.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { annexBNals } from '../src/h264-access-unit.js';
import { readMp4Structure } from '../src/mp4-reader.js';
import { from, lastValueFrom, toArray } from 'rxjs';
import { type RecorderOptions, createRecorder, inspectMp4, recordTo } from '../src/index.js';
import { decode } from './helpers/ffmpeg.js';
import { probe } from './helpers/ffprobe.js';
import { tempDir } from './helpers/frames.js';
import { isIdr, makeH264 } from './helpers/h264.js';

const noFfprobe = missingPlayer('ffprobe');
let units: Buffer[];
let longGop: Buffer[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  [units, longGop] = await Promise.all([makeH264(120), makeH264(180, { gop: 90, profile: 'high', preset: 'veryfast' })]);
  ({ dir, cleanup } = await tempDir('mp4-round-trip'));
}, 60_000);
afterAll(() => cleanup());

const T0 = 1_700_000_000_000_000;
/** A camera at about 30 fps whose frames come a little early or late: real, uneven timing. */
const jittered = (i: number): number => T0 + Math.round((i * 1e6) / 30) + ((i * 7919) % 13) * 1000;

async function record(name: string, frames: Buffer[], options: RecorderOptions = {}, time = jittered) {
  const path = join(dir, name);
  const rec = createRecorder(path, { checkpointIntervalMs: 0, ...options });
  for (let i = 0; i < frames.length; i++) await rec.write({ seq: i, h264: frames[i]!, captureTimeUs: time(i) });
  return { path, summary: await rec.close() };
}

/** The NAL units of a picture that belong in its sample: all but delimiters and parameter sets. */
const sampleNals = (unit: Buffer): Buffer[] => annexBNals(unit).map((n) => Buffer.from(n)).filter((n) => ![7, 8, 9].includes(n[0]! & 0x1f));

/** RFC 6381's codec string: avc1. and the SPS's profile, constraint and level bytes in hex. */
const codecOf = (unit: Buffer): string => `avc1.${Buffer.from(annexBNals(unit).find((n) => (n[0]! & 0x1f) === 7)!.subarray(1, 4)).toString('hex')}`;

describe('an MP4 recording of H.264', () => {
  it('holds every picture as a sample, its NAL units length-prefixed, keyframes marked', async () => {
    const { path, summary } = await record('plain.mp4', units);
    expect(summary.files[0]).toMatchObject({ format: 'mp4', frames: 120, width: 160, height: 120, fragments: 4 });
    const s = await readMp4Structure(path);
    const file = await readFile(path);
    let i = 0;
    for (const f of s.fragments) {
      for (let k = 0; k < f.frames; k++, i++) {
        const data = file.subarray(f.samples.offsets[k]!, f.samples.offsets[k]! + f.samples.sizes[k]!);
        const nals: Buffer[] = [];
        for (let p = 0; p < data.length; p += 4 + data.readUInt32BE(p)) nals.push(data.subarray(p + 4, p + 4 + data.readUInt32BE(p)));
        expect(nals, `sample ${i}`).toEqual(sampleNals(units[i]!));
        expect(f.samples.sync[k] === 1, `sample ${i}`).toBe(isIdr(units[i]!));
      }
    }
    expect(i).toBe(120);
    expect(s.track).toMatchObject({ width: 160, height: 120, codec: codecOf(units[0]!) });
    expect(s.track.codec).toMatch(/^avc1\.42/); // baseline
    expect(await inspectMp4(path)).toMatchObject({ frames: 120, indexed: true, problems: [] });
    expect(await decode(path)).toMatchObject({ errors: '', frames: 120 });
  });

  it('gives each sample its capture time on the 90 kHz clock, so uneven frame times stay as they were', async () => {
    const { path } = await record('vfr.mp4', units);
    const s = await readMp4Structure(path);
    const times = s.fragments.flatMap((f) => [...f.samples.times]);
    expect(times).toEqual(units.map((_, i) => Math.round(((jittered(i) - T0) * 90_000) / 1e6)));
    // Each duration reaches the next sample; the last lasts as long as the one before it.
    const durations = s.fragments.flatMap((f) => [...f.samples.durations]);
    expect(durations.slice(0, -1)).toEqual(times.slice(1).map((t, i) => t - times[i]!));
    expect(durations.at(-1)).toBe(durations.at(-2));
  });

  it('cuts a fragment at every keyframe, and every fragmentMs in a long GOP', async () => {
    const { path } = await record('fragments.mp4', units);
    const info = await inspectMp4(path);
    expect(info.fragments.map((f) => [f.frames, f.keyframe])).toEqual([[30, true], [30, true], [30, true], [30, true]]);
    const long = await record('long-gop.mp4', longGop, {}, (i) => T0 + Math.round((i * 1e6) / 30));
    const l = await inspectMp4(long.path);
    // A keyframe every 3 s: fragments of 1 s, only every third one starting with a keyframe.
    expect(l.fragments.map((f) => f.frames)).toEqual([30, 30, 30, 30, 30, 30]);
    expect(l.fragments.map((f) => f.keyframe)).toEqual([true, false, false, true, false, false]);
    expect(l.codec).toBe(codecOf(longGop[0]!));
    expect(l.codec).toMatch(/^avc1\.64/); // high: avcC carries the chroma format and bit depths
    expect(await decode(long.path)).toMatchObject({ errors: '', frames: 180 });
  });

  it('plays at a fixed rate when one is given, whatever the capture times', async () => {
    const { path, summary } = await record('fixed.mp4', units.slice(0, 30), { frameRate: { num: 30000, den: 1001 } });
    const s = await readMp4Structure(path);
    expect([...s.fragments[0]!.samples.durations]).toEqual(new Array(30).fill(3003));
    expect(summary.files[0]!.durationSeconds).toBeCloseTo(30 * 1001 / 30000, 9);
  });

  it('starts a new segment only at a keyframe, each file whole, every picture in exactly one', async () => {
    await record('seg_{index}.mp4', units, { segment: { durationMs: 1500 } });
    const names = (await readdir(dir)).filter((n) => /^seg_\d\.mp4$/.test(n)).sort();
    expect(names).toEqual(['seg_1.mp4', 'seg_2.mp4']);
    const infos = await Promise.all(names.map((n) => inspectMp4(join(dir, n))));
    // 1.5 s passes inside the second GOP: the file goes on to the keyframe at 2 s.
    expect(infos.map((i) => i.frames)).toEqual([60, 60]);
    for (const i of infos) expect(i).toMatchObject({ problems: [], indexed: true, fragments: [{ keyframe: true }, { keyframe: true }] });
  });

  it('writes on flush() every picture but the newest, whose duration the next one gives', async () => {
    const path = join(dir, 'flushed.mp4');
    const rec = createRecorder(path, { checkpointIntervalMs: 0 });
    for (let i = 0; i < 10; i++) await rec.write({ h264: units[i]!, captureTimeUs: jittered(i) });
    await rec.flush();
    const copy = join(dir, 'flushed-copy.mp4');
    await writeFile(copy, await readFile(path));
    expect(await inspectMp4(copy)).toMatchObject({ frames: 9, fragments: [{ frames: 9, keyframe: true }] });
    expect(await decode(copy)).toMatchObject({ errors: '', frames: 9 });
    for (let i = 10; i < 30; i++) await rec.write({ h264: units[i]!, captureTimeUs: jittered(i) });
    await rec.close();
    // The fragment cut by flush() and the rest: every picture once, at its capture time.
    const s = await readMp4Structure(path);
    expect(s.fragments.map((f) => f.frames)).toEqual([9, 21]);
    expect(s.fragments.flatMap((f) => [...f.samples.times])).toEqual(units.slice(0, 30).map((_, i) => Math.round(((jittered(i) - T0) * 90_000) / 1e6)));
  });

  it('names files by their first frame\'s capture time when asked', async () => {
    await record('cam_{unixms}.mp4', units, { segment: { durationMs: 2000 }, namesFromCaptureTime: true }, (i) => T0 + Math.round((i * 1e6) / 30));
    const names = (await readdir(dir)).filter((n) => n.startsWith('cam_')).sort();
    expect(names).toEqual(['cam_1700000000000_001.mp4', 'cam_1700000002000_001.mp4'.replace('_001', '_002')]);
  });
});

describe('recordTo() with H.264 frames', () => {
  it('records an Observable of access units into an MP4, as it records JPEGs into an AVI', async () => {
    const path = join(dir, 'sink.mp4');
    const events = await lastValueFrom(from(units.map((h264, i) => ({ h264, captureTimeUs: jittered(i) }))).pipe(recordTo({ path, checkpointIntervalMs: 0 }), toArray()));
    expect(events.map((e) => e.type)).toEqual(['opened', 'closed']);
    expect(events[1]).toMatchObject({ type: 'closed', file: { path, format: 'mp4', frames: 120 } });
    expect(await inspectMp4(path)).toMatchObject({ frames: 120, problems: [] });
  });
});

describe.skipIf(noFfprobe)(titled('ffprobe', noFfprobe), () => {
  it('counts every frame and reads the capture times back as presentation times', async () => {
    const { path } = await record('probe.mp4', units);
    const p = await probe(path);
    expect(p).toMatchObject({ frames: 120, width: 160, height: 120, errors: '' });
    p.times.forEach((t, i) => expect(t, `frame ${i}`).toBeCloseTo((jittered(i) - T0) / 1e6, 4));
  });
});
