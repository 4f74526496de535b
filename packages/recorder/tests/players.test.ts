/**
 * OpenCV and VLC read the recorder's files: every frame, the measured rate, seeking. ffmpeg is
 * checked in the other suites; these are the two other players the README names.
 */
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';

const noOpenCv = missingPlayer('opencv');
const noVlc = missingPlayer('vlc');
import { createRecorder, inspect, repair } from '../src/index.js';
import { runFfmpeg } from './helpers/ffmpeg.js';
import { captureTimeUs, makeJpegs, sharedTempDir } from './helpers/frames.js';
import { CAP_FFMPEG, CAP_OPENCV_MJPEG, type OpenCvReport, openCvRead, splitJpegs, vlcExtract } from './helpers/players.js';

const FRAMES = 150;
let jpegs: Buffer[];
let dir: string;
let cleanup: () => Promise<void>;
const files: Record<'plain' | 'multiRiff' | 'liveCopy' | 'repaired', string> = { plain: '', multiRiff: '', liveCopy: '', repaired: '' };
let segments: string[] = [];
let liveCopyFrames = 0;

/** Frame i of every recording here is jpegs[i % jpegs.length], at 29.97 fps. */
async function record(path: string, count: number, options: Parameters<typeof createRecorder>[1] = {}) {
  const rec = createRecorder(path, { checkpointIntervalMs: 0, ...options });
  for (let i = 0; i < count; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: jpegs[i % jpegs.length]! });
  return rec;
}

beforeAll(async () => {
  jpegs = await makeJpegs(50, '320x240');
  // VLC runs as nobody when the tests run as root: it reads the files and writes its output here.
  ({ dir, cleanup } = await sharedTempDir('players'));

  files.plain = join(dir, 'plain.avi');
  await (await record(files.plain, FRAMES)).close();

  files.multiRiff = join(dir, 'multi-riff.avi');
  await (await record(files.multiRiff, FRAMES, { riffThreshold: 256 * 1024 })).close();

  await (await record(join(dir, 'seg_{index:2}.avi'), FRAMES, { segment: { durationMs: 2000 } })).close();
  segments = (await readdir(dir)).filter((n) => n.startsWith('seg_')).sort().map((n) => join(dir, n));

  // A copy taken after a checkpoint while the recorder is still open (what a crash leaves), and
  // that copy repaired.
  const live = join(dir, 'live.avi');
  const rec = await record(live, 100, { riffThreshold: 256 * 1024 });
  await rec.flush();
  files.liveCopy = join(dir, 'live-copy.avi');
  await copyFile(live, files.liveCopy);
  liveCopyFrames = (await inspect(files.liveCopy)).frames;
  await rec.close();
  files.repaired = join(dir, 'repaired.avi');
  await repair(files.liveCopy, files.repaired);
}, 60_000);
afterAll(() => cleanup());

function expectAllFrames(r: OpenCvReport, frames: number): void {
  expect(r).toMatchObject({ opened: true, frameCount: frames, decoded: frames, width: 320, height: 240, shapes: [[240, 320]] });
  expect(r.fps).toBeCloseTo(30000 / 1001, 6);
}

describe.skipIf(noOpenCv)(titled('OpenCV (cv2.VideoCapture, its default FFmpeg backend)', noOpenCv), () => {
  it('reads every frame of plain, multi-RIFF (OpenDML), repaired and mid-recording files at the measured rate', async () => {
    const { reports } = await openCvRead([files.plain, files.multiRiff, files.repaired, files.liveCopy], CAP_FFMPEG);
    expect(reports.map((r) => r.backend)).toEqual(['FFMPEG', 'FFMPEG', 'FFMPEG', 'FFMPEG']);
    expectAllFrames(reports[0]!, FRAMES);
    expectAllFrames(reports[1]!, FRAMES);
    expect(liveCopyFrames).toBeGreaterThan(0);
    expectAllFrames(reports[2]!, liveCopyFrames);
    expectAllFrames(reports[3]!, liveCopyFrames);
  });

  it('reads each segment whole, and the segments add up to every frame', async () => {
    expect(segments.length).toBeGreaterThan(1);
    const { reports } = await openCvRead(segments, CAP_FFMPEG);
    const inspected = await Promise.all(segments.map((s) => inspect(s)));
    reports.forEach((r, k) => expectAllFrames(r, inspected[k]!.frames));
    expect(reports.reduce((n, r) => n + (r.decoded ?? 0), 0)).toBe(FRAMES);
  });

  it('seeks by frame number in single- and multi-RIFF files', async () => {
    const { reports } = await openCvRead([files.plain, files.multiRiff], CAP_FFMPEG, 120);
    for (const r of reports) expect(r).toMatchObject({ seekRead: true, posAfterSeek: 121 });
  });
});

describe.skipIf(noOpenCv)(titled("OpenCV's built-in MJPEG reader (CAP_OPENCV_MJPEG, used when OpenCV lacks FFmpeg)", noOpenCv), () => {
  it('reads every frame of a single-RIFF file at the measured rate, and seeks in it', async () => {
    const { reports } = await openCvRead([files.plain, files.repaired, ...segments], CAP_OPENCV_MJPEG, 30);
    expect(reports.every((r) => r.backend === 'CV_MJPEG')).toBe(true);
    expectAllFrames(reports[0]!, FRAMES);
    expectAllFrames(reports[1]!, liveCopyFrames);
    expect(reports[0]).toMatchObject({ seekRead: true, posAfterSeek: 31 });
  });

  it('reads only the first RIFF of an OpenDML file (its known limit, stated in the README)', async () => {
    const { reports } = await openCvRead([files.multiRiff], CAP_OPENCV_MJPEG);
    const inspected = await inspect(files.multiRiff);
    expect(inspected.riffs).toBeGreaterThan(1);
    // OpenCV's reader takes frames from the first RIFF's idx1 only (it looks for an hdrl list in
    // every AVIX RIFF, which OpenDML does not put there).
    expect(reports[0]!.decoded).toBeGreaterThan(0);
    expect(reports[0]!.decoded).toBeLessThan(FRAMES);
  });
});

describe.skipIf(noVlc)(titled('VLC', noVlc), () => {
  /** Frames VLC takes out of `file`, from `start` seconds on, as JPEG buffers. */
  async function vlcFrames(file: string, name: string, start = 0, ours = true): Promise<Buffer[]> {
    const out = join(dir, `${name}.vlc.mjpeg`);
    const r = await vlcExtract(file, out, start);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // VLC's avi demuxer logs at warning level when an index is missing or broken.
    expect(r.stderr).not.toMatch(/broken or missing index|no key frame set|reindex/i);
    const header = /avi demux debug: stream\[0\] video\(MJPG\) (\d+x\d+) \d+bpp ([\d.]+)fps/.exec(r.stderr);
    if (ours) expect(header?.slice(1), 'the stream header VLC read').toEqual(['320x240', '29.970030']);
    return splitJpegs(await readFile(out));
  }

  it('demuxes our files exactly as it demuxes ffmpeg\'s own AVI of the same frames', async () => {
    // The baseline: ffmpeg muxes the same 150 JPEGs at 30000/1001 and VLC demuxes that.
    const concat = join(dir, 'frames.mjpeg');
    await writeFile(concat, Buffer.concat(Array.from({ length: FRAMES }, (_, i) => jpegs[i % jpegs.length]!)));
    const ffAvi = join(dir, 'ffmpeg.avi');
    const ff = await runFfmpeg(['-v', 'error', '-y', '-framerate', '30000/1001', '-f', 'mjpeg', '-i', concat, '-c', 'copy', ffAvi]);
    expect(ff.code, ff.stderr).toBe(0);
    const baseline = await vlcFrames(ffAvi, 'baseline', 0, false);
    expect(baseline.length).toBeGreaterThanOrEqual(FRAMES - 1);

    for (const [name, file] of [['plain', files.plain], ['multi-riff', files.multiRiff]] as const) {
      const got = await vlcFrames(file, name);
      expect(got.length, name).toBe(baseline.length);
      got.forEach((f, i) => expect(f.equals(jpegs[i % jpegs.length]!), `${name} frame ${i}`).toBe(true));
    }
  });

  it('seeks through the index of single- and multi-RIFF files', async () => {
    // 3 s at 30000/1001 fps is frame 89.91: VLC starts at frame 89.
    for (const [name, file] of [['plain-seek', files.plain], ['multi-riff-seek', files.multiRiff]] as const) {
      const got = await vlcFrames(file, name, 3);
      expect(got.length, name).toBeGreaterThan(0);
      expect(got.length, name).toBeLessThan(FRAMES - 80);
      const first = jpegs.findIndex((j) => j.equals(got[0]!));
      expect(first, name).toBe(89 % jpegs.length);
      got.forEach((f, k) => expect(f.equals(jpegs[(89 + k) % jpegs.length]!), `${name} frame ${89 + k}`).toBe(true));
    }
  });
});
