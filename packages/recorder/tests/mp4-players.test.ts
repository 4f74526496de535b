/**
 * The players the README names read the MP4 files: a plain recording, a segment, a file cut in
 * the middle of a fragment's write (what a kill leaves) and a join of segments play in VLC,
 * OpenCV and Chromium's <video>, each with the frames inspectMp4 lists.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { createRecorder, inspectMp4, joinMp4 } from '../src/index.js';
import { chromiumPlayer } from './helpers/chromium.js';
import { decode } from './helpers/ffmpeg.js';
import { sharedTempDir } from './helpers/frames.js';
import { makeH264 } from './helpers/h264.js';
import { CAP_FFMPEG, openCvRead, vlcExtract } from './helpers/players.js';
import { WriteLog } from './helpers/write-log.js';

const noOpenCv = missingPlayer('opencv');
const noVlc = missingPlayer('vlc');
const noChromium = missingPlayer('chromium');
const T0 = 1_700_000_000_000_000;
/** About 25 fps, unevenly: real capture timing. */
const at = (i: number): number => T0 + i * 40_000 + ((i * 37) % 5) * 2_000;

let dir: string;
let cleanup: () => Promise<void>;
/** name -> frames inspectMp4 lists */
const files = new Map<string, number>();

beforeAll(async () => {
  const units = await makeH264(150, { size: '320x240' });
  // VLC runs as nobody when the tests run as root: it reads the files and writes its output here.
  ({ dir, cleanup } = await sharedTempDir('mp4-players'));
  const record = async (pattern: string, options: Parameters<typeof createRecorder>[1] = {}) => {
    const rec = createRecorder(join(dir, pattern), { checkpointIntervalMs: 0, ...options });
    for (let i = 0; i < 150; i++) await rec.write({ h264: units[i]!, captureTimeUs: at(i) });
    await rec.close();
  };
  await record('plain.mp4');
  await record('seg_{index}.mp4', { segment: { durationMs: 2500 } });
  // The file as a kill in the middle of the fourth fragment's write leaves it.
  const log = new WriteLog();
  await record('/log/killed.mp4', { fs: log });
  const fragmentWrites = log.writes.filter((w) => w.bytes.length > 4).slice(1);
  const upTo = log.writes.indexOf(fragmentWrites[3]!);
  const cut = log.writes.slice(0, upTo).reduce((n, w) => n + w.bytes.length, 0) + Math.floor(fragmentWrites[3]!.bytes.length / 2);
  await writeFile(join(dir, 'killed.mp4'), log.fileAfter(cut));
  const segments = (await readdir(dir)).filter((n) => n.startsWith('seg_')).sort();
  await joinMp4(segments.map((n) => ({ path: join(dir, n) })), join(dir, 'joined.mp4'));
  for (const name of ['plain.mp4', 'seg_1.mp4', 'seg_2.mp4', 'killed.mp4', 'joined.mp4']) files.set(name, (await inspectMp4(join(dir, name))).frames);
}, 60_000);
afterAll(() => cleanup());

describe('the files under test', () => {
  it('are whole recordings, segments and a killed one, as inspectMp4 lists them', async () => {
    const plain = await inspectMp4(join(dir, 'plain.mp4'));
    // Killed in its fourth fragment's write: the three fragments before it are what is left.
    const firstThree = plain.fragments.slice(0, 3).reduce((n, f) => n + f.frames, 0);
    expect(firstThree).toBeLessThan(150);
    expect(files.get('killed.mp4')).toBe(firstThree);
    expect(files.get('seg_1.mp4')! + files.get('seg_2.mp4')!).toBe(150);
    expect([files.get('plain.mp4'), files.get('joined.mp4')]).toEqual([150, 150]);
  });
});

describe.skipIf(noOpenCv)(titled('OpenCV (cv2.VideoCapture, its FFmpeg backend)', noOpenCv), () => {
  it('decodes every listed frame of each file at its size', async () => {
    const names = [...files.keys()];
    const { reports } = await openCvRead(names.map((n) => join(dir, n)), CAP_FFMPEG);
    reports.forEach((r, i) => {
      expect(r, names[i]).toMatchObject({ opened: true, decoded: files.get(names[i]!), width: 320, height: 240, shapes: [[240, 320]] });
      expect(r.fps, names[i]).toBeGreaterThan(20);
    });
  });
});

describe.skipIf(noVlc)(titled('VLC', noVlc), () => {
  it('demuxes every listed frame of each file', async () => {
    for (const [name, frames] of files) {
      const out = join(dir, `${name}.vlc.h264`);
      const r = await vlcExtract(join(dir, name), out);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stderr, name).not.toMatch(/mp4 demux error/);
      expect(await decode(out, ['-f', 'h264']), name).toMatchObject({ errors: '', frames });
    }
  });
});

describe.skipIf(noChromium)(titled("Chromium's <video>", noChromium), () => {
  it('plays each file to its end, decoding every listed frame', async () => {
    const player = await chromiumPlayer(dir);
    try {
      for (const [name, frames] of files) {
        const r = await player.play(name);
        expect(r, name).toMatchObject({ ended: true, error: null, frames });
        const info = await inspectMp4(join(dir, name));
        expect(r.currentTime, name).toBeCloseTo(info.durationSeconds, 1);
      }
    } finally {
      await player.close();
    }
  }, 120_000);
});
