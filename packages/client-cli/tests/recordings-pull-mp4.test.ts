import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, truncate } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RecordingsStore, recordingsRoutes } from '@edgecam/edge-server';
import { createRecorder, inspectMp4 } from '@edgecam/recorder';
import { ffmpegDecode } from './ffmpeg.js';
import { FFMPEG } from './global-setup.js';
import { runCli, tempDir } from './run-cli.js';

/**
 * `edgecam recordings` and `edgecam pull` over a camera that records MP4: three segments written
 * ahead of time (H.264 at 10 fps, a keyframe every 10 pictures: 20 + 10 + 5 pictures), joined
 * into one MP4 without re-encoding.
 */
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const starts = [t0, t0 + 10_000, t0 + 20_000];
const counts = [20, 10, 5];
let server: Server;
let host: string;

/** `count` pictures of the test pattern, split at their access unit delimiters. */
async function pictures(dir: string, count: number): Promise<Buffer[]> {
  const out = join(dir, 'units.h264');
  await promisify(execFile)(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-frames:v', String(count),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-x264-params', 'keyint=10:min-keyint=10:scenecut=0:repeat-headers=1', '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', out,
  ]);
  const data = await readFile(out);
  const at: number[] = [];
  for (let i = 0; i + 4 < data.length; i++) if (data.readUInt32BE(i) === 1 && (data[i + 4]! & 0x1f) === 9) at.push(i);
  return at.map((s, k) => data.subarray(s, at[k + 1] ?? data.length));
}

beforeAll(async () => {
  const root = tempDir('recordings-mp4-');
  const camDir = join(root, 'front');
  await mkdir(camDir, { recursive: true });
  const units = await pictures(root, 20);
  for (const [i, start] of starts.entries()) {
    const rec = createRecorder(join(camDir, `${start}_001.mp4`), { fsync: false });
    for (let f = 0; f < counts[i]!; f++) await rec.write({ h264: units[f]!, captureTimeUs: (start + f * 100) * 1000 });
    await rec.close();
  }
  const store = new RecordingsStore('front', camDir);
  const routes = recordingsRoutes({ store: (n) => (n === 'front' ? store : undefined), cameras: () => ['front'], log: pino({ level: 'silent' }) });
  server = createServer((req, res) => {
    void routes.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => server?.close());

describe('edgecam recordings of MP4 segments', () => {
  it('lists them with their format and frames', async () => {
    const run = await runCli(['recordings', host, '--json'], { cwd: tempDir() });
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as Array<{ file: string; frames: number; format: string }>;
    expect(list.map((r) => [r.file, r.format, r.frames])).toEqual(starts.map((s, i) => [`${s}_001.mp4`, 'mp4', counts[i]]));
  });
});

describe('edgecam pull of MP4 segments', () => {
  it('joins a time range into one MP4 from the keyframe at or before --from, the samples copied', async () => {
    const cwd = tempDir();
    // From 1.5 s into the first segment (its keyframe at 1 s: picture 10) to 0.45 s into the third.
    const from = new Date(t0 + 1500).toISOString();
    const run = await runCli(['pull', host, '--camera', 'front', '--from', from, '--to', String(t0 + 20_450), '-o', 'out.mp4', '--json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { frames: number; segments: number; output: string };
    expect(summary).toMatchObject({ frames: 10 + 10 + 5, segments: 3 });
    const info = await inspectMp4(join(cwd, 'out.mp4'));
    expect(info).toMatchObject({ frames: 25, problems: [], indexed: true, width: 160, height: 120 });
    expect(info.fragments[0]!.keyframe).toBe(true);
    expect(await ffmpegDecode(join(cwd, 'out.mp4'))).toEqual({ frames: 25, errors: '' });
    expect((await readdir(cwd)).sort()).toEqual(['out.mp4']);
  });

  it('names the output .mp4 by default and refuses an .avi name for MP4 segments', async () => {
    const cwd = tempDir();
    const run = await runCli(['pull', host, '--json'], { cwd });
    expect(run.code).toBe(0);
    expect((await readdir(cwd)).filter((n) => n.endsWith('.mp4'))).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ frames: 35 });
    const refused = await runCli(['pull', host, '-o', 'clip.avi'], { cwd: tempDir() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('edgecam: these segments are MP4 and join into an MP4 file without re-encoding: name the output .mp4\n');
  });
});

describe('edgecam info and repair of an MP4', () => {
  it('describe a pulled MP4, list the problems of a cut copy, and repair it keeping its whole fragments', async () => {
    const cwd = tempDir();
    expect((await runCli(['pull', host, '-o', 'all.mp4'], { cwd })).code).toBe(0);
    const good = await runCli(['info', 'all.mp4'], { cwd });
    expect(good.stderr).toBe('');
    expect(good.stdout).toMatch(/^all\.mp4: H\.264 avc1\.42c0\w\w 160x120, 35 frames, [\d.]+ fps on average, [\d.]+ s, 4 fragments, indexed, [\d.]+ kB\nno problems found\n$/);
    // Cut inside its last fragment, as an interrupted copy would be.
    await truncate(join(cwd, 'all.mp4'), (await stat(join(cwd, 'all.mp4'))).size - 400);
    const cut = await runCli(['info', 'all.mp4', '--json'], { cwd });
    expect(cut.code).toBe(0);
    const before = JSON.parse(cut.stdout) as { frames: number; problems: Array<{ code: string }> };
    expect(before.problems.map((p) => p.code)).toEqual(['TRUNCATED', 'MISSING_INDEX']);
    const fixed = await runCli(['repair', 'all.mp4', '-o', 'fixed.mp4'], { cwd });
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toMatch(new RegExp(`^repaired all\\.mp4 -> fixed\\.mp4: kept ${before.frames} frames.*; fixed: TRUNCATED, MISSING_INDEX\\n$`));
    expect(await inspectMp4(join(cwd, 'fixed.mp4'))).toMatchObject({ frames: before.frames, problems: [], indexed: true });
    expect(await ffmpegDecode(join(cwd, 'fixed.mp4'))).toEqual({ frames: before.frames, errors: '' });
  });
});
